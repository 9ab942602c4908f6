#!/bin/sh
set -eu
if [ -z "${RSYNC_PASSWORD:-}" ] && [ -r "${RSYNC_PASSWORD_FILE:-/run/secrets/rsync_password}" ]; then
    RSYNC_PASSWORD=$(cat "${RSYNC_PASSWORD_FILE:-/run/secrets/rsync_password}")
fi
: "${RSYNC_PASSWORD:?set RSYNC_PASSWORD or mount /run/secrets/rsync_password}"
umask 077
printf '%s:%s\n' "$RSYNC_USER" "$RSYNC_PASSWORD" > /etc/rsyncd.secrets
sed -e "s|@RSYNC_USER@|$RSYNC_USER|g" -e "s|@RSYNC_ALLOW@|$RSYNC_ALLOW 127.0.0.1|g" \
    /etc/rsyncd.conf.in > /etc/rsyncd.conf
chmod 0644 /etc/rsyncd.conf
exec "$@"
