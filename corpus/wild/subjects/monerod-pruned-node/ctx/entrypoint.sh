#!/bin/sh
# Start monerod in the foreground with the node operator's flags. The file
# limit is raised because LMDB and the p2p layer keep many descriptors open.
set -e

ulimit -n 65535 2>/dev/null || true

# Allow "docker run image --some-flag" as well as "docker run image monerod ...".
if [ "${1#-}" != "$1" ]; then
	set -- monerod --non-interactive --data-dir=/home/monero/.bitmonero "$@"
fi

exec "$@"
