#!/bin/sh
# Runs clpeak on every OpenCL platform and device the runtime exposes and
# keeps the XML report with the device list, one directory per node and
# run, so that instance types can be compared.
set -eu

node=${NODE_NAME:-$(hostname)}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dir="$RESULTS_DIR/$node/$stamp"
mkdir -p "$dir"

if ! clinfo -l > "$dir/devices.txt" 2>&1 || ! grep -q 'Device' "$dir/devices.txt"; then
	echo "run-clpeak: no OpenCL device visible; run with --gpus all (NVIDIA container runtime)" >&2
	cat "$dir/devices.txt" >&2
	exit 3
fi
clinfo --raw > "$dir/clinfo.raw" 2>&1 || true

# CLPEAK_TESTS selects tests, e.g. "--global-bandwidth --compute-sp";
# empty runs all of them.
# shellcheck disable=SC2086
clpeak $CLPEAK_TESTS --enable-xml-dump --xml-file "$dir/clpeak.xml" | tee "$dir/clpeak.txt"

printf '{"node":"%s","run":"%s","devices":%s}\n' "$node" "$stamp" \
	"$(grep -c 'Device' "$dir/devices.txt")" > "$dir/summary.json"
cat "$dir/summary.json"
