#!/bin/sh
# Cron entries that download and pipe into a shell.
set -eu
for f in "$HOST_ROOT"/etc/crontab "$HOST_ROOT"/etc/cron.d/* "$HOST_ROOT"/var/spool/cron/crontabs/*; do
    [ -f "$f" ] || continue
    jq -r '.cron_patterns[]' "$IND" | while IFS= read -r pat; do
        grep -nF -- "$pat" "$f" 2>/dev/null | while IFS= read -r line; do
            jq -cn --arg f "${f#$HOST_ROOT}" --arg l "$line" --arg p "$pat" \
                '{check:"cron", file:$f, line:$l, indicator:$p}'
        done
    done
done
