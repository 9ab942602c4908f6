#!/bin/sh
# Entrypoint of the node-tuning pod. With --hugepages it prints the 2 MiB
# page count for the profile's sysctl (HUGEPAGES_2M, default: a quarter of
# memory for shared buffers), otherwise it checks that the host's /sys is
# writable and runs TuneD in the foreground with the selected profile.
set -eu

if [ "${1:-}" = --hugepages ]; then
	if [ -n "${HUGEPAGES_2M:-}" ]; then
		echo "$HUGEPAGES_2M"
	else
		mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
		echo $((mem_kb / 4 / 2048))
	fi
	exit 0
fi

if ! [ -w /sys/kernel/mm/transparent_hugepage/enabled ]; then
	echo "run-tuned: /sys is read-only; run the pod privileged with the host's /sys mounted" >&2
	exit 1
fi

echo "${TUNED_PROFILE}" > /etc/tuned/active_profile
exec tuned --no-dbus --no-socket --debug --profile "${TUNED_PROFILE}"
