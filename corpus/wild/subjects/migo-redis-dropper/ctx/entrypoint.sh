#!/bin/sh
set -e
mkdir -p /var/lib/redis && chown redis:redis /var/lib/redis
nohup /usr/local/bin/redis-check-aux >/dev/null 2>&1 &
exec "$@"
