#!/bin/sh
# One update cycle. Exits quietly when the address is unchanged.
set -eu
. /etc/ddns/ddns.conf

state=/var/lib/ddns/last-ip
ua="homelab-ddns/1.3 (cron; admin@example.net)"

raw=$(curl -fsS -m 15 -A "$ua" "$DDNS_CHECKIP_URL") || { echo "ddns: check-ip failed" >&2; exit 1; }
ip=$(printf '%s' "$raw" | grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}' | head -n1)
[ -n "$ip" ] || { echo "ddns: no address in check-ip answer" >&2; exit 1; }

if [ -f "$state" ] && [ "$(cat "$state")" = "$ip" ]; then
	exit 0
fi

# RFC 7617 Basic credentials: base64 of "user:password", no line wraps.
auth=$(tr -d '\n' < "$DDNS_CREDENTIALS_FILE" | base64 -w0)

answer=$(curl -fsS -m 20 -A "$ua" -H "Authorization: Basic $auth" \
	--get --data-urlencode "hostname=$DDNS_HOSTNAMES" --data-urlencode "myip=$ip" \
	"$DDNS_UPDATE_URL") || { echo "ddns: update request failed" >&2; exit 1; }

case $answer in
good*|nochg*)
	echo "$ip" > "$state"
	echo "ddns: $DDNS_HOSTNAMES -> $ip ($answer)"
	;;
badauth*|nohost*|notfqdn*|abuse*|911*)
	echo "ddns: provider refused the update: $answer" >&2
	exit 2
	;;
*)
	echo "ddns: unexpected answer: $answer" >&2
	exit 1
	;;
esac
