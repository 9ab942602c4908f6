#!/bin/sh
# Creates a self-signed certificate when none is mounted, then starts.
set -eu
crt=/etc/dovecot/private/tls.crt
key=/etc/dovecot/private/tls.key
if [ ! -s "$crt" ] || [ ! -s "$key" ]; then
    cn=${MAIL_HOSTNAME:-$(hostname -f 2>/dev/null || hostname)}
    openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN=$cn" \
        -keyout "$key" -out "$crt" 2>/dev/null
    chmod 0600 "$key"
    echo "generated self-signed certificate for $cn"
fi
exec "$@"
