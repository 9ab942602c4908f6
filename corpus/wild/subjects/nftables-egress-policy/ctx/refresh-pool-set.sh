#!/bin/sh
# Resolves the pool domains and adds their addresses to the nftables
# sets with a timeout, so that addresses that move age out.
set -eu
list=${1:-/etc/nftables.d/pool-domains.txt}
grep -Ev '^(#|$)' "$list" | while read -r name; do
    host -W 3 "$name" 2>/dev/null | awk '
        / has address / { print "4", $NF }
        / has IPv6 address / { print "6", $NF }' |
    while read -r fam addr; do
        if [ "$fam" = 4 ]; then
            nft add element inet egress_policy pool_v4 "{ $addr timeout 2h }"
        else
            nft add element inet egress_policy pool_v6 "{ $addr timeout 2h }"
        fi
    done
done
nft list set inet egress_policy pool_v4 | grep -c timeout || true
