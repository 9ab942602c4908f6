#!/bin/sh
# Loads the table, then refreshes the pool sets every $1 seconds.
set -eu
interval=${1:-3600}
nft -f /etc/nftables.d/egress.nft
echo "egress policy loaded"
while :; do
    /usr/local/sbin/refresh-pool-set || echo "refresh failed" >&2
    sleep "$interval"
done
