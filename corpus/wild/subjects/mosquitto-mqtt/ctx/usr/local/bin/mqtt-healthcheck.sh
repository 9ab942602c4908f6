#!/bin/sh
# Healthy when the broker answers on the loopback listener with its uptime.
exec mosquitto_sub -h 127.0.0.1 -p 1884 -t '$SYS/broker/uptime' -C 1 -W 3 >/dev/null
