#!/bin/sh
# Configures Exim4 from the environment (see namshi/smtp), then runs it.
set -eu
opts=""
if [ -n "${SMARTHOST_ADDRESS:-}" ]; then
    configtype=smarthost
    smarthost="${SMARTHOST_ADDRESS}::${SMARTHOST_PORT:-587}"
    if [ -n "${SMARTHOST_USER:-}" ]; then
        printf '%s:%s:%s\n' "${SMARTHOST_ALIASES:-*}" "$SMARTHOST_USER" "${SMARTHOST_PASSWORD:-}" \
            > /etc/exim4/passwd.client
        chown root:Debian-exim /etc/exim4/passwd.client
        chmod 0640 /etc/exim4/passwd.client
    fi
else
    configtype=internet
    smarthost=""
fi
cat > /etc/exim4/update-exim4.conf.conf <<CONF
dc_eximconfig_configtype='${configtype}'
dc_other_hostnames='${OTHER_HOSTNAMES:-}'
dc_local_interfaces='0.0.0.0.${PORT} ; ::0.${PORT}'
dc_readhost=''
dc_relay_domains='${RELAY_DOMAINS:-}'
dc_minimaldns='false'
dc_relay_nets='${RELAY_NETWORKS}'
dc_smarthost='${smarthost}'
CFILEMODE='644'
dc_use_split_config='false'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
CONF
[ -n "${MAILNAME:-}" ] && echo "$MAILNAME" > /etc/mailname
if [ -n "${DISABLE_IPV6:-}" ]; then
    echo 'disable_ipv6=true' >> /etc/exim4/exim4.conf.localmacros
fi
update-exim4.conf
exec "$@"
