#!/bin/sh
# tls-bench [--single|--all-cores]: runs openssl speed and writes
# /results/<host>-<date>.json.
set -eu
mode=${1:---all-cores}
cores=$(nproc)
secs=${BENCH_SECONDS:-5}
out=/results/$(hostname)-$(date -u +%Y%m%dT%H%M%SZ).json
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

run() { # run [multi] args...
    if [ "$1" -gt 1 ]; then
        n=$1; shift
        openssl speed -multi "$n" -seconds "$secs" -mr "$@"
    else
        shift
        openssl speed -seconds "$secs" -mr "$@"
    fi
}

for a in $BENCH_ALGOS; do
    case $a in
        aes-*|chacha20-*) run 1 -evp "$a" ;;
        *) run 1 "$a" ;;
    esac
done > "$raw.1" 2>/dev/null
for p in $BENCH_PKEY; do run 1 "$p"; done >> "$raw.1" 2>/dev/null

if [ "$mode" = --all-cores ] && [ "$cores" -gt 1 ]; then
    for a in $BENCH_ALGOS; do
        case $a in
            aes-*|chacha20-*) run "$cores" -evp "$a" ;;
            *) run "$cores" "$a" ;;
        esac
    done > "$raw" 2>/dev/null
fi

{
    printf '{"host":"%s","cores":%d,"seconds":%d,"openssl":"%s",\n' \
        "$(hostname)" "$cores" "$secs" "$(openssl version | cut -d' ' -f2)"
    printf '"cpu":"%s",\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //; s/"/ /g')"
    printf '"single":'; awk -f /usr/local/lib/tls-bench/parse-speed.awk "$raw.1"; printf ',\n'
    printf '"multi":'; if [ -s "$raw" ]; then awk -f /usr/local/lib/tls-bench/parse-speed.awk "$raw"; else printf '{}'; fi
    printf '}\n'
} > "$out"
rm -f "$raw.1"
cat "$out"
