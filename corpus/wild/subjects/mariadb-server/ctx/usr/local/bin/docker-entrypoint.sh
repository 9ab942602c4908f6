#!/bin/bash
set -eo pipefail
shopt -s nullglob

# Initialise the data directory on first start from MARIADB_* variables,
# then exec the server (dropping root privileges to mysql).

mysql_log()   { local type="$1"; shift; printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$type" "$*"; }
mysql_note()  { mysql_log Note "$@"; }
mysql_error() { mysql_log ERROR "$@" >&2; exit 1; }

# file_env VAR [DEFAULT]: VAR may also be given as VAR_FILE (docker secrets).
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		mysql_error "Both $var and $fileVar are set (but are exclusive)"
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

docker_setup_env() {
	DATADIR="$(mariadbd --verbose --help 2>/dev/null | awk '$1 == "datadir" { print $2; exit }')"
	SOCKET="$(mariadbd --verbose --help 2>/dev/null | awk '$1 == "socket" { print $2; exit }')"
	file_env 'MARIADB_ROOT_PASSWORD'
	file_env 'MARIADB_DATABASE'
	file_env 'MARIADB_USER'
	file_env 'MARIADB_PASSWORD'
	: "${MARIADB_ROOT_HOST:=%}"
	DATABASE_ALREADY_EXISTS=
	if [ -d "$DATADIR/mysql" ]; then
		DATABASE_ALREADY_EXISTS=true
	fi
}

docker_verify_minimum_env() {
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}" ] && [ -z "${MARIADB_RANDOM_ROOT_PASSWORD:-}" ]; then
		mysql_error $'Database is uninitialized and password option is not specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD'
	fi
}

docker_process_sql() { mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET" "$@"; }

sql_escape_string_literal() {
	local escaped=${1//\\/\\\\}
	echo "${escaped//\'/\\\'}"
}

docker_temp_server_start() {
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF --loose-innodb_buffer_pool_load_at_startup=0 &
	MARIADB_PID=$!
	mysql_note "Waiting for server startup"
	local i
	for i in {30..0}; do
		if docker_process_sql --database=mysql <<<'SELECT 1' &> /dev/null; then
			break
		fi
		sleep 1
	done
	if [ "$i" = 0 ]; then
		mysql_error "Unable to start server."
	fi
}

docker_temp_server_stop() {
	kill "$MARIADB_PID"
	wait "$MARIADB_PID"
}

docker_init_database_dir() {
	mysql_note "Initializing database files"
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
		--skip-test-db --old-mode='UTF8_IS_UTF8MB3' --default-time-zone=SYSTEM \
		--enforce-storage-engine= --skip-log-bin --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0
	mysql_note "Database files initialized"
}

docker_setup_db() {
	if [ -n "${MARIADB_RANDOM_ROOT_PASSWORD:-}" ]; then
		MARIADB_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64)"
		export MARIADB_ROOT_PASSWORD
		mysql_note "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi
	local rootPasswordEscaped healthPassword healthPasswordEscaped
	rootPasswordEscaped=$(sql_escape_string_literal "${MARIADB_ROOT_PASSWORD}")
	healthPassword="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
	healthPasswordEscaped=$(sql_escape_string_literal "$healthPassword")

	mysql_note "Securing system users (equivalent to running mysql_secure_installation)"
	docker_process_sql --database=mysql --binary-mode <<-EOSQL
		SET @@SESSION.SQL_LOG_BIN=0;
		SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
		DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname,'\'');
		SET PASSWORD FOR 'root'@'localhost'= PASSWORD('${rootPasswordEscaped}');
		CREATE USER IF NOT EXISTS 'root'@'${MARIADB_ROOT_HOST}' IDENTIFIED BY '${rootPasswordEscaped}';
		GRANT ALL ON *.* TO 'root'@'${MARIADB_ROOT_HOST}' WITH GRANT OPTION;
		CREATE USER healthcheck@'127.0.0.1' IDENTIFIED BY '${healthPasswordEscaped}';
		CREATE USER healthcheck@'::1' IDENTIFIED BY '${healthPasswordEscaped}';
		CREATE USER healthcheck@localhost IDENTIFIED BY '${healthPasswordEscaped}';
	EOSQL
	printf '[mariadb-client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\nprotocol=tcp\n' "$SOCKET" "$healthPassword" > "$DATADIR/.my-healthcheck.cnf"

	if [ -n "$MARIADB_DATABASE" ]; then
		mysql_note "Creating database ${MARIADB_DATABASE}"
		docker_process_sql --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
	fi
	if [ -n "$MARIADB_USER" ] && [ -n "$MARIADB_PASSWORD" ]; then
		mysql_note "Creating user ${MARIADB_USER}"
		local userPasswordEscaped
		userPasswordEscaped=$(sql_escape_string_literal "${MARIADB_PASSWORD}")
		docker_process_sql --database=mysql <<<"CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$userPasswordEscaped';"
		if [ -n "$MARIADB_DATABASE" ]; then
			docker_process_sql --database=mysql <<<"GRANT ALL ON \`${MARIADB_DATABASE//_/\\_}\`.* TO '$MARIADB_USER'@'%';"
		fi
	fi
}

docker_process_init_files() {
	local f
	for f; do
		case "$f" in
			*.sh)     mysql_note "$0: running $f"; . "$f" ;;
			*.sql)    mysql_note "$0: running $f"; docker_process_sql ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} < "$f"; echo ;;
			*.sql.gz) mysql_note "$0: running $f"; gunzip -c "$f" | docker_process_sql ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"}; echo ;;
			*)        mysql_note "$0: ignoring $f" ;;
		esac
	done
}

# first arg is `-f` or `--some-option`
if [ "${1:0:1}" = '-' ]; then
	set -- mariadbd "$@"
fi

if [ "$1" = 'mariadbd' ] || [ "$1" = 'mysqld' ]; then
	mysql_note "Entrypoint script for MariaDB Server started."
	docker_setup_env "$@"
	if [ "$(id -u)" = "0" ]; then
		find "$DATADIR" \! -user mysql -exec chown mysql: '{}' +
		mysql_note "Switching to dedicated user 'mysql'"
		exec setpriv --reuid=mysql --regid=mysql --init-groups "$BASH_SOURCE" "$@"
	fi
	if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
		docker_verify_minimum_env
		docker_init_database_dir "$@"
		docker_temp_server_start "$@"
		docker_setup_db
		docker_process_init_files /docker-entrypoint-initdb.d/*
		docker_temp_server_stop
		mysql_note "MariaDB init process done. Ready for start up."
	fi
fi

exec "$@"
