#!/bin/bash
#
# Healthcheck for MariaDB: each argument is a test (--connect,
# --innodb_initialized, --innodb_buffer_pool_loaded); all must pass.
# Credentials come from the .my-healthcheck.cnf the entrypoint wrote.
set -eo pipefail

_process_sql() {
	mariadb ${def['file']:+--defaults-file=${def['file']}} \
		${def['extra_file']:+--defaults-extra-file=${def['extra_file']}} \
		-B "$@"
}

connect() {
	local s
	set +e +o pipefail
	s=$(_process_sql --skip-column-names -e 'select @@skip_networking' 2>&1)
	case "$s" in
		0|1) connect_s=$s; return "$s" ;;
		*) return 1 ;;
	esac
}

innodb_initialized() {
	[ "$(_process_sql --skip-column-names -e "select 1 from information_schema.ENGINES WHERE engine='innodb' AND support in ('YES', 'DEFAULT', 'ENABLED')")" = 1 ]
}

innodb_buffer_pool_loaded() {
	local s
	s=$(_process_sql --skip-column-names -e "select VARIABLE_VALUE from information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='Innodb_buffer_pool_load_status'")
	[[ $s =~ ' load completed' ]]
}

declare -A def
datadir=/var/lib/mysql
if [ -f "$datadir/.my-healthcheck.cnf" ]; then
	def['extra_file']="$datadir/.my-healthcheck.cnf"
fi

if [ $# -eq 0 ]; then
	echo "healthcheck.sh: no tests given (try --connect --innodb_initialized)" >&2
	exit 1
fi

while [ $# -gt 0 ]; do
	case "$1" in
		--defaults-file=*) def['file']="${1#*=}" ;;
		--defaults-extra-file=*) def['extra_file']="${1#*=}" ;;
		--connect) connect || { echo "healthcheck connect failed" >&2; exit 1; } ;;
		--innodb_initialized) innodb_initialized || { echo "healthcheck innodb_initialized failed" >&2; exit 1; } ;;
		--innodb_buffer_pool_loaded) innodb_buffer_pool_loaded || { echo "healthcheck innodb_buffer_pool_loaded failed" >&2; exit 1; } ;;
		*) echo "Unknown healthcheck option $1" >&2; exit 1 ;;
	esac
	shift
done
