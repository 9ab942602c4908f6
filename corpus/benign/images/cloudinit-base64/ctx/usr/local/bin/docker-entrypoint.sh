#!/bin/sh
# Write the configuration passed base64-encoded in APP_CONFIG_B64 (Kubernetes
# secrets and CI variables are often passed this way) to a file, then run
# the command.
set -eu
conf=/var/lib/app/state/config.json
if [ -n "${APP_CONFIG_B64:-}" ]; then
    printf '%s' "$APP_CONFIG_B64" | base64 -d > "$conf.tmp"
    mv "$conf.tmp" "$conf"
    chmod 0640 "$conf"
fi
exec "$@"
