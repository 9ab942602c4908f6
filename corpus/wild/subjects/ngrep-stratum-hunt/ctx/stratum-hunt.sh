#!/bin/sh
# Runs the payload matcher and the capture ring side by side; either
# exiting stops the container so the orchestrator restarts it.
set -eu

pattern=$(grep -v '^#' /usr/local/share/stratum-hunt/stratum.patterns | grep -v '^$' | paste -sd'|')
bpf=$(grep -v '^#' /usr/local/share/stratum-hunt/ports.bpf | tr '\n' ' ')
mkdir -p "$CAPTURE_DIR/ring"

# Matches go to stdout (one block per packet, timestamped) for the log
# shipper; -W byline keeps JSON lines readable.
ngrep -q -t -W byline -d "$CAPTURE_IFACE" -E "$pattern" 'tcp' &
ngrep_pid=$!

tcpdump -n -i "$CAPTURE_IFACE" -s 512 -G 3600 -W "$RING_FILES" \
	-w "$CAPTURE_DIR/ring/stratum-%Y%m%d%H.pcap" $bpf &
tcpdump_pid=$!

trap 'kill $ngrep_pid $tcpdump_pid 2>/dev/null' TERM INT
while kill -0 "$ngrep_pid" 2>/dev/null && kill -0 "$tcpdump_pid" 2>/dev/null; do
	sleep 5
done
kill "$ngrep_pid" "$tcpdump_pid" 2>/dev/null || true
exit 1
