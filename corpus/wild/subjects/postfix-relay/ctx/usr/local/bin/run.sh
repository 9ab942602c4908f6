#!/bin/bash
set -euo pipefail

[ "${DEBUG:-no}" = "yes" ] && set -x

add_config_value() {
	local key=${1} value=${2}
	[ -n "${value}" ] || { echo "ERROR: no value for ${key}"; exit 1; }
	echo "Setting configuration option ${key} with value: ${value}"
	postconf -e "${key} = ${value}"
}

# Read a secret from SMTP_PASSWORD or the file named by SMTP_PASSWORD_FILE.
if [ -n "${SMTP_PASSWORD_FILE:-}" ]; then
	[ -e "${SMTP_PASSWORD_FILE}" ] || { echo "ERROR: ${SMTP_PASSWORD_FILE} not found"; exit 1; }
	SMTP_PASSWORD=$(< "${SMTP_PASSWORD_FILE}")
fi

[ -n "${SMTP_SERVER:-}" ] || { echo "SMTP_SERVER is not set: give the smarthost, e.g. smtp.example.com"; exit 1; }
[ -n "${SERVER_HOSTNAME:-}" ] || { echo "SERVER_HOSTNAME is not set"; exit 1; }
if [ -n "${SMTP_USERNAME:-}" ] && [ -z "${SMTP_PASSWORD:-}" ]; then
	echo "SMTP_USERNAME is set but SMTP_PASSWORD is not: set SMTP_PASSWORD or SMTP_PASSWORD_FILE"
	exit 1
fi

SMTP_PORT="${SMTP_PORT:-587}"
DOMAIN=$(echo "${SERVER_HOSTNAME}" | awk 'BEGIN{FS=OFS="."}{print $(NF-1),$NF}')

add_config_value "maillog_file" "/dev/stdout"
add_config_value "myhostname" "${SERVER_HOSTNAME}"
add_config_value "mydomain" "${SMTP_DOMAIN:-$DOMAIN}"
add_config_value "mydestination" "localhost"
add_config_value "myorigin" '$mydomain'
add_config_value "relayhost" "[${SMTP_SERVER}]:${SMTP_PORT}"
add_config_value "smtp_use_tls" "yes"
add_config_value "smtp_tls_security_level" "${SMTP_TLS_SECURITY_LEVEL:-encrypt}"
add_config_value "smtp_tls_CAfile" "/etc/ssl/certs/ca-certificates.crt"

if [ -n "${SMTP_USERNAME:-}" ]; then
	add_config_value "smtp_sasl_auth_enable" "yes"
	add_config_value "smtp_sasl_password_maps" "hash:/etc/postfix/sasl_passwd"
	add_config_value "smtp_sasl_security_options" "noanonymous"
	echo "[${SMTP_SERVER}]:${SMTP_PORT} ${SMTP_USERNAME}:${SMTP_PASSWORD}" > /etc/postfix/sasl_passwd
	postmap hash:/etc/postfix/sasl_passwd
	chmod 0600 /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db
fi

nets='127.0.0.0/8'
if [ -n "${SMTP_NETWORKS:-}" ]; then
	for net in ${SMTP_NETWORKS//,/ }; do
		if [[ $net =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]]; then
			nets+=", $net"
		else
			echo "$net is not a valid IPv4 network, skipping"
		fi
	done
fi
add_config_value "mynetworks" "${nets}"

if [ -n "${OVERWRITE_FROM:-}" ]; then
	echo "/^From:.*$/ REPLACE From: ${OVERWRITE_FROM}" > /etc/postfix/smtp_header_checks
	postmap /etc/postfix/smtp_header_checks
	add_config_value "smtp_header_checks" "regexp:/etc/postfix/smtp_header_checks"
fi

# Queue ownership can be wrong after a volume was mounted.
postfix set-permissions >/dev/null 2>&1 || true
newaliases

exec postfix start-fg
