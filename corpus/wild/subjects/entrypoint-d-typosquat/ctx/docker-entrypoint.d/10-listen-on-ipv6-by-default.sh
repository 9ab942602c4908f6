#!/bin/sh
set -e
DEFAULT_CONF_FILE="/etc/nginx/sites-enabled/default"
[ -f "$DEFAULT_CONF_FILE" ] || exit 0
[ -f "/proc/net/if_inet6" ] || { echo "$0: info: ipv6 not available"; exit 0; }
grep -q "listen \[::\]:80" "$DEFAULT_CONF_FILE" && exit 0
sed -i -E 's,listen       80;,listen       80;\n    listen  [::]:80;,' "$DEFAULT_CONF_FILE"
echo "$0: info: Enabled listen on IPv6 in $DEFAULT_CONF_FILE"
