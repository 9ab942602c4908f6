#!/bin/sh
# First start: build cn=config and the base tree offline with slapadd,
# then run slapd in the foreground. Later starts reuse the volumes.
set -eu

share=/usr/local/share/ldap-bootstrap
suffix=$(printf '%s' "$LDAP_DOMAIN" | sed 's/^/dc=/; s/\./,dc=/g')
dc=${LDAP_DOMAIN%%.*}

if [ -z "$(ls -A /etc/ldap/slapd.d 2>/dev/null)" ]; then
	pwfile=${LDAP_ADMIN_PASSWORD_FILE:-/run/secrets/ldap_admin_password}
	[ -r "$pwfile" ] || { echo "slapd-entrypoint: admin password secret $pwfile missing" >&2; exit 1; }
	hash=$(slappasswd -h '{SSHA}' -T "$pwfile")
	tmp=$(mktemp -d)
	sed -e "s|@SUFFIX@|$suffix|g" -e "s|@ROOTPW@|$hash|g" "$share/config.ldif.tmpl" > "$tmp/config.ldif"
	sed -e "s|@SUFFIX@|$suffix|g" -e "s|@DC@|$dc|g" -e "s|@ORG@|$LDAP_ORGANISATION|g" \
		"$share/base.ldif.tmpl" > "$tmp/base.ldif"
	slapadd -n 0 -F /etc/ldap/slapd.d -l "$tmp/config.ldif"
	slapadd -n 1 -F /etc/ldap/slapd.d -l "$tmp/base.ldif"
	chown -R openldap:openldap /etc/ldap/slapd.d /var/lib/ldap
	rm -rf "$tmp"
	echo "slapd-entrypoint: directory $suffix initialised"
fi

exec slapd -h "ldap:/// ldapi:///" -u openldap -g openldap -F /etc/ldap/slapd.d -d "$LDAP_LOG_LEVEL"
