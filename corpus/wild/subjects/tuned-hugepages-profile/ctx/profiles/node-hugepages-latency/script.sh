#!/bin/sh
# TuneD [script] plugin hook: reports the huge page pool after the
# profile is applied (start) and before it is rolled back (stop).
. /usr/lib/tuned/functions

start() {
	for d in /sys/kernel/mm/hugepages/hugepages-*; do
		[ -d "$d" ] || continue
		echo "tuned-hugepages: ${d##*/}: $(cat "$d/nr_hugepages") reserved, $(cat "$d/free_hugepages") free"
	done
	return 0
}

stop() {
	return 0
}

process "$@"
