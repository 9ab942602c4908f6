#!/bin/sh
# Adds runtime settings, as coturn's image documents for DETECT_EXTERNAL_IP.
set -eu
conf=/var/lib/coturn/runtime.conf
: > "$conf"
[ -n "${TURN_SECRET:-}" ] && echo "static-auth-secret=${TURN_SECRET}" >> "$conf"
[ -n "${EXTERNAL_IP:-}" ] && echo "external-ip=${EXTERNAL_IP}" >> "$conf"
[ -n "${TURN_REALM:-}" ] && echo "realm=${TURN_REALM}" >> "$conf"
echo "min-port=${TURN_MIN_PORT}" >> "$conf"
echo "max-port=${TURN_MAX_PORT}" >> "$conf"
if [ -r /etc/coturn/tls/tls.crt ]; then
    echo "cert=/etc/coturn/tls/tls.crt" >> "$conf"
    echo "pkey=/etc/coturn/tls/tls.key" >> "$conf"
fi
# turnserver reads one -c file: merge the image's config and the runtime one.
cat /etc/coturn/turnserver.conf "$conf" > /var/lib/coturn/turnserver.conf
if [ "${1:-}" = -c ]; then
    shift 2
fi
exec turnserver -c /var/lib/coturn/turnserver.conf "$@"
