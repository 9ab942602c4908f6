#!/bin/sh
# sysbench cpu on 1 thread and on all cores; one CSV line per run:
# host,threads,events_per_second,latency_avg_ms,latency_p95_ms
set -eu

cores=$(nproc)
out="$RESULTS/sysbench-cpu-$(hostname)-$(date -u +%Y%m%d%H%M%S).csv"
echo "host,threads,events_per_second,latency_avg_ms,latency_p95_ms" > "$out"

for threads in 1 "$cores"; do
	log=$(sysbench cpu --cpu-max-prime="$CPU_MAX_PRIME" --threads="$threads" \
		--time="$BENCH_TIME" --percentile=95 run)
	eps=$(echo "$log" | awk -F: '/events per second/ {gsub(/ /, "", $2); print $2}')
	avg=$(echo "$log" | awk -F: '/^ *avg:/ {gsub(/ /, "", $2); print $2}')
	p95=$(echo "$log" | awk -F: '/95th percentile/ {gsub(/ /, "", $2); print $2}')
	echo "$(hostname),$threads,$eps,$avg,$p95" >> "$out"
	echo "sysbench cpu: $threads thread(s): $eps events/s"
done
echo "results: $out"
