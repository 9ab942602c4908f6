#!/bin/sh
set -eu
conf=/data/sentinel.conf
if [ ! -f "$conf" ]; then
    {
        echo "port 26379"
        echo "dir /data"
        echo "sentinel resolve-hostnames yes"
        echo "sentinel announce-hostnames yes"
        [ -n "${SENTINEL_ANNOUNCE_IP:-}" ] && echo "sentinel announce-ip ${SENTINEL_ANNOUNCE_IP}"
        [ -n "${SENTINEL_ANNOUNCE_PORT:-}" ] && echo "sentinel announce-port ${SENTINEL_ANNOUNCE_PORT}"
        echo "sentinel monitor ${REDIS_MASTER_NAME} ${REDIS_MASTER_HOST} ${REDIS_MASTER_PORT} ${SENTINEL_QUORUM}"
        echo "sentinel down-after-milliseconds ${REDIS_MASTER_NAME} ${SENTINEL_DOWN_AFTER}"
        echo "sentinel failover-timeout ${REDIS_MASTER_NAME} ${SENTINEL_FAILOVER_TIMEOUT}"
        echo "sentinel parallel-syncs ${REDIS_MASTER_NAME} 1"
        if [ -n "${REDIS_PASSWORD_FILE:-}" ] && [ -r "$REDIS_PASSWORD_FILE" ]; then
            echo "sentinel auth-pass ${REDIS_MASTER_NAME} $(cat "$REDIS_PASSWORD_FILE")"
        fi
    } > "$conf"
    chmod 0600 "$conf"
fi
exec redis-sentinel "$conf" "$@"
