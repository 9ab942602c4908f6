#!/bin/sh
# Writes clients.conf from the environment and the secret file, installs
# the mounted users file, then execs the command (freeradius by default).
set -eu

conf=/etc/freeradius/3.0
secret_file=${RADIUS_SECRET_FILE:-/run/secrets/radius_secret}
[ -r "$secret_file" ] || { echo "radius-entrypoint: shared secret $secret_file missing" >&2; exit 1; }
secret=$(cat "$secret_file")
local_secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

sed -e "s|@CLIENT_NAME@|$RADIUS_CLIENT_NAME|" \
	-e "s|@CLIENT_NETWORK@|$RADIUS_CLIENT_NETWORK|" \
	-e "s|@CLIENT_SECRET@|$secret|" \
	-e "s|@LOCAL_SECRET@|$local_secret|" \
	"$conf/clients.conf.tmpl" > "$conf/clients.conf"
printf '%s\n' "$local_secret" > /run/radius-local-secret
chown freerad:freerad "$conf/clients.conf" /run/radius-local-secret
chmod 0640 "$conf/clients.conf" /run/radius-local-secret

if [ -r /run/secrets/radius_users ]; then
	install -o freerad -g freerad -m 0640 /run/secrets/radius_users "$conf/mods-config/files/authorize"
fi

exec "$@"
