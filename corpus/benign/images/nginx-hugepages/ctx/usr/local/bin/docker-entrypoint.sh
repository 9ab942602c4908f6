#!/bin/sh
# Apply the sysctl tuning when the container is allowed to (privileged or
# with the sysctls whitelisted); otherwise the host's settings stay.
set -eu
if [ -w /proc/sys/vm/nr_hugepages ]; then
    sysctl -q -p /etc/sysctl.d/60-hugepages.conf || echo "sysctl tuning not applied" >&2
else
    echo "read-only /proc/sys: using the host's huge page settings ($(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo ?))" >&2
fi
mkdir -p /var/cache/nginx/proxy
exec "$@"
