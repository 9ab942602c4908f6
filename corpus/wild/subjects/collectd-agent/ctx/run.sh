#!/bin/sh
set -eu
password=$(cat /run/secrets/collectd_password 2>/dev/null || echo "${COLLECTD_PASSWORD:-}")
sed -e "s/@SERVER@/${COLLECTD_SERVER}/" -e "s/@PASSWORD@/${password}/" \
    /etc/collectd/collectd.conf.d/network.conf.in > /etc/collectd/collectd.conf.d/network.conf
if [ -n "${COLLECTD_HOSTNAME}" ]; then
    sed -i "1i Hostname \"${COLLECTD_HOSTNAME}\"" /etc/collectd/collectd.conf
fi
sed -i "s/^Interval .*/Interval ${COLLECTD_INTERVAL}/" /etc/collectd/collectd.conf
exec collectd -f -C /etc/collectd/collectd.conf
