#!/bin/sh
# ELF executables in world-writable directories, and hugepages tuning.
set -eu
for d in $(jq -r '.writable_dirs[]' "$IND"); do
    [ -d "$HOST_ROOT$d" ] || continue
    find "$HOST_ROOT$d" -xdev -type f -perm -u+x -size +100k 2>/dev/null | while read -r f; do
        if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then
            jq -cn --arg f "${f#$HOST_ROOT}" --arg s "$(stat -c %s "$f")" \
                '{check:"writable_exec", file:$f, size:($s|tonumber)}'
        fi
    done
done
hp=$(cat "$HOST_PROC/sys/vm/nr_hugepages" 2>/dev/null || echo 0)
if [ "$hp" -gt 0 ]; then
    jq -cn --arg n "$hp" '{check:"hugepages", nr_hugepages:($n|tonumber), note:"verify an expected workload uses them"}'
fi
