#!/bin/sh
# Samples RAPL energy counters every INTERVAL seconds and writes
# cpu_package_watts / cpu_dram_watts per socket for node_exporter's
# textfile collector (atomic rename). Read-only: rdmsr, never wrmsr.
set -eu

MSR_RAPL_POWER_UNIT=0x606
MSR_PKG_ENERGY_STATUS=0x611
MSR_DRAM_ENERGY_STATUS=0x619

[ -e /dev/cpu/0/msr ] || modprobe msr || {
	echo "rapl-meter: no /dev/cpu/*/msr and cannot load msr; run privileged with /lib/modules mounted" >&2
	exit 1
}

# First CPU of every physical package.
sockets() {
	for c in /sys/devices/system/cpu/cpu[0-9]*; do
		id=$(cat "$c/topology/physical_package_id" 2>/dev/null) || continue
		echo "$id ${c##*cpu}"
	done | sort -n -k1,1 -k2,2 | awk '!seen[$1]++'
}

# Energy status unit: bits 12:8 of MSR_RAPL_POWER_UNIT, joules = 1/2^ESU.
esu() {
	rdmsr -p "$1" -f 12:8 -d "$MSR_RAPL_POWER_UNIT"
}

energy() {
	rdmsr -p "$1" -f 31:0 -d "$2" 2>/dev/null || echo -1
}

out="$TEXTFILE_DIR/rapl.prom"
while :; do
	tmp="$out.$$"
	{
		echo "# HELP cpu_package_watts Average package power over the sampling interval (RAPL)."
		echo "# TYPE cpu_package_watts gauge"
		echo "# HELP cpu_dram_watts Average DRAM power over the sampling interval (RAPL)."
		echo "# TYPE cpu_dram_watts gauge"
		sockets | while read -r pkg cpu; do
			unit=$(esu "$cpu")
			p1=$(energy "$cpu" "$MSR_PKG_ENERGY_STATUS")
			d1=$(energy "$cpu" "$MSR_DRAM_ENERGY_STATUS")
			sleep "$INTERVAL"
			p2=$(energy "$cpu" "$MSR_PKG_ENERGY_STATUS")
			d2=$(energy "$cpu" "$MSR_DRAM_ENERGY_STATUS")
			awk -v u="$unit" -v a="$p1" -v b="$p2" -v c="$d1" -v d="$d2" -v t="$INTERVAL" -v s="$pkg" '
				function w(x, y) { if (y < x) y += 4294967296; return (y - x) / (2 ^ u) / t }
				BEGIN {
					printf "cpu_package_watts{package=\"%s\"} %.2f\n", s, w(a, b)
					if (c >= 0 && d >= 0) printf "cpu_dram_watts{package=\"%s\"} %.2f\n", s, w(c, d)
				}'
		done
		echo "# HELP cpu_frequency_hz Current frequency reported by cpupower."
		echo "# TYPE cpu_frequency_hz gauge"
		cpupower -c all frequency-info -f -m 2>/dev/null | awk '
			/analyzing CPU/ { cpu = $3; sub(":", "", cpu) }
			/current CPU frequency/ { v = $4; u = $5
				m = (u ~ /GHz/) ? 1e9 : (u ~ /MHz/) ? 1e6 : 1e3
				printf "cpu_frequency_hz{cpu=\"%s\"} %.0f\n", cpu, v * m }'
	} > "$tmp"
	mv "$tmp" "$out"
done
