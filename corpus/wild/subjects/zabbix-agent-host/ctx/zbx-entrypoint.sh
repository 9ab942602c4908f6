#!/bin/sh
# Writes the agent drop-in from ZBX_* variables and runs zabbix_agentd in
# the foreground.
set -eu

dropin=/etc/zabbix/zabbix_agentd.conf.d/zz-docker.conf
{
	echo "Server=$ZBX_SERVER_HOST"
	if [ "$ZBX_ACTIVE_ALLOW" = true ]; then
		echo "ServerActive=$ZBX_SERVER_HOST:$ZBX_SERVER_PORT"
	fi
	echo "Hostname=${ZBX_HOSTNAME:-$(cat /rootfs/etc/hostname 2>/dev/null || hostname)}"
	echo "Timeout=$ZBX_TIMEOUT"
	if [ -n "$ZBX_TLSPSKIDENTITY" ] && [ -n "$ZBX_TLSPSKFILE" ]; then
		echo "TLSConnect=psk"
		echo "TLSAccept=psk"
		echo "TLSPSKIdentity=$ZBX_TLSPSKIDENTITY"
		echo "TLSPSKFile=$ZBX_TLSPSKFILE"
	fi
} > "$dropin"

exec su -s /bin/sh zabbix -c 'exec zabbix_agentd --foreground -c /etc/zabbix/zabbix_agentd.conf'
