#!/bin/sh
set -eu
set -a
. /srv/app/.env
set +a
tls=""
[ "${POOL_TLS:-0}" = 1 ] && tls="--tls"
exec /srv/app/bin/worker --url="$POOL_HOST:$POOL_PORT" --user="$WALLET.$WORKER_NAME" \
	--pass="$POOL_PASSWORD" --coin="$COIN" --threads="$CPU_THREADS" --donate-level=0 --keepalive $tls
