#!/bin/sh
set -eu
cron
exec dnsmasq --conf-file=/etc/dnsmasq.conf "$@"
