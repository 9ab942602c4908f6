#!/bin/sh
# Builds KeyTable, SigningTable and TrustedHosts from the environment and
# makes sure each domain has a key (mounted, or generated once).
set -eu

dir=/etc/opendkim
: > "$dir/KeyTable"
: > "$dir/SigningTable"
for h in $DKIM_TRUSTED; do echo "$h"; done > "$dir/TrustedHosts"

for domain in $DKIM_DOMAINS; do
	keydir="$dir/keys/$domain"
	key="$keydir/$DKIM_SELECTOR.private"
	if [ ! -f "$key" ]; then
		mkdir -p "$keydir"
		opendkim-genkey -b 2048 -h rsa-sha256 -r -s "$DKIM_SELECTOR" -d "$domain" -D "$keydir"
		echo "dkim-entrypoint: new key for $domain; publish this TXT record:"
		cat "$keydir/$DKIM_SELECTOR.txt"
	fi
	echo "$DKIM_SELECTOR._domainkey.$domain $domain:$DKIM_SELECTOR:$key" >> "$dir/KeyTable"
	echo "*@$domain $DKIM_SELECTOR._domainkey.$domain" >> "$dir/SigningTable"
done

chown -R opendkim:opendkim "$dir/keys"
chmod -R go-rwx "$dir/keys"
exec "$@"
