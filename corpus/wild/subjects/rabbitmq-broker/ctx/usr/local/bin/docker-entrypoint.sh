#!/bin/bash
set -euo pipefail

# allow the container to be started with `--user`
if [[ "$1" == rabbitmq* ]] && [ "$(id -u)" = '0' ]; then
	if [ "$1" = 'rabbitmq-server' ]; then
		find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq '{}' +
	fi
	exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$BASH_SOURCE" "$@"
fi

# RABBITMQ_ERLANG_COOKIE was removed from RabbitMQ; keep honouring it the
# way the official image did, by writing the cookie file.
if [ -n "${RABBITMQ_ERLANG_COOKIE:-}" ]; then
	cookieFile="$HOME/.erlang.cookie"
	if [ -e "$cookieFile" ]; then
		if [ "$(cat "$cookieFile" 2>/dev/null)" != "$RABBITMQ_ERLANG_COOKIE" ]; then
			echo >&2 "warning: $cookieFile contents do not match RABBITMQ_ERLANG_COOKIE"
		fi
	else
		echo "$RABBITMQ_ERLANG_COOKIE" > "$cookieFile"
	fi
	chmod 600 "$cookieFile"
fi

# first arg is `-f` or `--some-option`
if [ "${1:0:1}" = '-' ]; then
	set -- rabbitmq-server "$@"
fi

exec "$@"
