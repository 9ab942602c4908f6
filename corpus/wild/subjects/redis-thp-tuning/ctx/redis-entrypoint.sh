#!/bin/sh
# Kernel settings Redis warns about at start-up, then redis-server as the
# redis user. Each setting needs a privileged container or the host's
# sysctl; when it cannot be applied, say how to apply it on the host.
set -eu

tune() { # file value hint
	if [ -w "$1" ]; then
		echo "$2" > "$1" && echo "redis-entrypoint: $1 = $2"
	else
		echo "redis-entrypoint: cannot write $1; on the host run: $3" >&2
	fi
}

if [ "$(id -u)" = 0 ]; then
	tune /sys/kernel/mm/transparent_hugepage/enabled never \
		"echo never > /sys/kernel/mm/transparent_hugepage/enabled"
	tune /sys/kernel/mm/transparent_hugepage/defrag never \
		"echo never > /sys/kernel/mm/transparent_hugepage/defrag"
	tune /proc/sys/vm/overcommit_memory 1 "sysctl vm.overcommit_memory=1"
	tune /proc/sys/net/core/somaxconn 4096 "sysctl net.core.somaxconn=4096"
	chown -R redis:redis /data
	exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
