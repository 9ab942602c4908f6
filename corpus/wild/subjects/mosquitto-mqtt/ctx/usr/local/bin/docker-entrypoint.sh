#!/bin/sh
set -e

passwd_file=/mosquitto/config/passwd

# Create the password file once from the environment; never overwrite one
# that was mounted or created before.
if [ ! -s "$passwd_file" ] && [ -n "${MQTT_USERNAME:-}" ] && [ -n "${MQTT_PASSWORD:-}" ]; then
	mosquitto_passwd -b -c "$passwd_file" "$MQTT_USERNAME" "$MQTT_PASSWORD"
	echo "created $passwd_file for user $MQTT_USERNAME"
fi
if [ ! -e "$passwd_file" ]; then
	echo "warning: $passwd_file does not exist; set MQTT_USERNAME and MQTT_PASSWORD or mount one" >&2
	touch "$passwd_file"
fi

# Set permissions
user="$(id -u)"
if [ "$user" = '0' ]; then
	[ -d "/mosquitto" ] && chown -R mosquitto:mosquitto /mosquitto || true
	chmod 0700 "$passwd_file" || true
fi

exec "$@"
