#!/bin/sh
# Set worker_processes to the CPUs the container may use (cgroup v2
# cpu.max quota, else the online CPUs) when NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE is set.
set -eu

ME=$(basename "$0")

[ "${NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE:-}" ] || exit 0

ncpu=$(getconf _NPROCESSORS_ONLN)
if [ -r /sys/fs/cgroup/cpu.max ]; then
    read -r quota period < /sys/fs/cgroup/cpu.max
    if [ "$quota" != "max" ]; then
        ncpu=$(( (quota + period - 1) / period ))
    fi
fi
[ "$ncpu" -ge 1 ] || ncpu=1

sed -i.bak -r "s/^(worker_processes)(.*)$/# Commented out by $ME on $(date)\n#\1\2\n\1 $ncpu;/" /etc/nginx/nginx.conf
echo "$ME: info: worker_processes set to $ncpu"
