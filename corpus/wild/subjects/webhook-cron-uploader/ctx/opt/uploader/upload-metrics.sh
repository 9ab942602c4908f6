#!/bin/sh
# Refresh settings, collect host metrics, post them to the webhook.
set -eu
. /etc/uploader.env
conf=/var/lib/uploader/uploader.conf

# Settings are data: fetched to a temporary file, checked, then read with
# grep. A failed fetch keeps the previous settings.
if curl -fsS -m 20 -o "$conf.new" "$CONFIG_URL" && grep -q '^WEBHOOK_B64=' "$conf.new"; then
	mv "$conf.new" "$conf"
else
	rm -f "$conf.new"
	echo "upload-metrics: config refresh failed, using the previous one"
fi
setting() { sed -n "s/^$1=//p" "$conf" | head -1; }

webhook=$(setting WEBHOOK_B64 | base64 -d)
channel=$(setting CHANNEL)
host=$(setting HOST_LABEL)
[ -n "$host" ] || host=$(hostname)

load=$(cut -d' ' -f1-3 /proc/loadavg)
mem=$(awk '/MemAvailable/ {a=$2} /MemTotal/ {t=$2} END {printf "%d%%", 100 - 100 * a / t}' /proc/meminfo)
disk=$(df -P / | awk 'NR == 2 {print $5}')

text="*$host* load $load, memory used $mem, disk / $disk"
curl -fsS -m 20 -X POST -H 'Content-type: application/json' \
	--data "{\"channel\":\"$channel\",\"text\":\"$text\"}" "$webhook" > /dev/null
echo "upload-metrics: $(date -u +%H:%M:%S) $text"
