#!/bin/sh
# Cache sizes from available memory (a third for rrsets, half that for
# messages), threads and slabs from CPUs, then unbound in the foreground.
set -eu
limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)
if [ "$limit" = max ]; then
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
else
    mem_kb=$((limit / 1024))
fi
rrset=$((mem_kb / 3 / 1024))
[ "$rrset" -gt 1024 ] && rrset=1024
[ "$rrset" -lt 8 ] && rrset=8
msg=$((rrset / 2))
threads=$(nproc)
slabs=1
while [ "$slabs" -lt "$threads" ]; do slabs=$((slabs * 2)); done
sed -e "s/@THREADS@/$threads/; s/@SLABS@/$slabs/; s/@MSG_CACHE@/${msg}m/; s/@RRSET_CACHE@/${rrset}m/" \
    /etc/unbound/unbound.conf.in > /etc/unbound/unbound.conf
unbound-checkconf /etc/unbound/unbound.conf >/dev/null
exec unbound -d -c /etc/unbound/unbound.conf "$@"
