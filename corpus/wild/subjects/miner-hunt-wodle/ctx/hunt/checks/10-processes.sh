#!/bin/sh
# Processes whose name or command line matches a miner indicator.
set -eu
names=$(jq -r '.process_names[]' "$IND")
args=$(jq -r '.argument_patterns[]' "$IND")
for d in "$HOST_PROC"/[0-9]*; do
    pid=${d##*/}
    comm=$(cat "$d/comm" 2>/dev/null) || continue
    cmd=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || cmd=
    hit=
    for n in $names; do [ "$comm" = "$n" ] && hit="name:$n"; done
    if [ -z "$hit" ]; then
        echo "$args" | while IFS= read -r a; do
            case $cmd in *"$a"*) echo "arg:$a"; break ;; esac
        done > /tmp/hit.$$ || true
        hit=$(cat /tmp/hit.$$); rm -f /tmp/hit.$$
    fi
    if [ -n "$hit" ]; then
        exe=$(readlink "$d/exe" 2>/dev/null || echo "?")
        jq -cn --arg pid "$pid" --arg comm "$comm" --arg exe "$exe" --arg cmd "$cmd" --arg why "$hit" \
            '{check:"process", pid:($pid|tonumber), comm:$comm, exe:$exe, cmdline:$cmd, indicator:$why}'
    fi
done
