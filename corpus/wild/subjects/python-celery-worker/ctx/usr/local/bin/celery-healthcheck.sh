#!/bin/sh
# Healthy when this container's worker answers a broadcast ping.
set -e
exec celery -A proj inspect ping --destination "worker@$(hostname)" --timeout 10 >/dev/null
