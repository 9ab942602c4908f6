#!/bin/sh
# Runs every check once (or every $HUNT_INTERVAL seconds with --loop).
set -eu
dir=$(dirname "$0")
export IND="$dir/indicators.json"
once() {
    for c in "$dir"/checks/*.sh; do
        sh "$c" || echo "{\"check\":\"$(basename "$c" .sh)\",\"error\":true}"
    done
}
if [ "${1:-}" = --loop ]; then
    while :; do once; sleep "${HUNT_INTERVAL:-600}"; done
else
    once
fi
