#!/bin/sh
# Add "listen [::]:80" next to every "listen 80" of the generated server
# blocks when the container has IPv6 and the file was not changed by hand.
set -e

ME=$(basename "$0")
DEFAULT_CONF_FILE="/etc/nginx/conf.d/proxy.conf"

if [ ! -f "/proc/net/if_inet6" ]; then
    echo "$ME: info: ipv6 not available"
    exit 0
fi
if [ ! -f "$DEFAULT_CONF_FILE" ]; then
    echo "$ME: info: $DEFAULT_CONF_FILE is not a file or does not exist"
    exit 0
fi
if grep -q 'listen  *\[::\]:80;' "$DEFAULT_CONF_FILE"; then
    echo "$ME: info: IPv6 listen already enabled"
    exit 0
fi
sed -i -E 's,listen       80;,listen       80;\n    listen  [::]:80;,' "$DEFAULT_CONF_FILE"
echo "$ME: info: Enabled listen on IPv6 in $DEFAULT_CONF_FILE"
