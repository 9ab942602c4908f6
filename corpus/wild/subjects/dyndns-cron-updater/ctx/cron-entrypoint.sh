#!/bin/sh
# Runs one update at start (so a new container registers at once), then
# hands over to cron in the foreground.
set -eu
if [ -r /run/secrets/ddns_credentials ]; then
	/usr/local/bin/ddns-update || echo "cron-entrypoint: first update failed; cron retries every 5 minutes" >&2
else
	echo "cron-entrypoint: /run/secrets/ddns_credentials missing; updates will fail until it is mounted" >&2
fi
exec "$@"
