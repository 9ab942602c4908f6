#!/bin/sh
# Established TCP connections to common stratum ports (host netns).
set -eu
hexports=
for p in $(jq -r '.stratum_ports[]' "$IND"); do
    hexports="$hexports|$(printf '%04X' "$p")"
done
for f in "$HOST_PROC/net/tcp" "$HOST_PROC/net/tcp6"; do
    [ -r "$f" ] || continue
    awk -v ports="$hexports|" 'NR > 1 && $4 == "01" {
        split($3, r, ":")
        if (index(ports, "|" r[2] "|") > 0) print r[1], r[2], $10
    }' "$f" | while read -r addr hexport inode; do
        jq -cn --arg a "$addr" --arg p "$((0x$hexport))" --arg i "$inode" \
            '{check:"connection", remote_hex:$a, remote_port:($p|tonumber), socket_inode:$i}'
    done
done
