#!/bin/sh
# Writes PgBouncer's config from the environment unless one is mounted.
set -eu
ini=/etc/pgbouncer/pgbouncer.ini
users=/etc/pgbouncer/userlist.txt

if [ -n "${DATABASE_URL:-}" ]; then
    # postgres://user:password@host:port/dbname
    rest=${DATABASE_URL#*://}
    DB_USER=${rest%%:*}; rest=${rest#*:}
    DB_PASSWORD=${rest%%@*}; rest=${rest#*@}
    hostport=${rest%%/*}; DB_NAME=${rest#*/}
    DB_HOST=${hostport%%:*}
    case $hostport in *:*) DB_PORT=${hostport#*:} ;; esac
fi

if [ ! -f "$ini" ]; then
    : "${DB_HOST:?set DB_HOST or DATABASE_URL}"
    cat > "$ini" <<INI
[databases]
${DB_NAME:-*} = host=${DB_HOST} port=${DB_PORT:-5432}${DB_NAME:+ dbname=$DB_NAME}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = ${LISTEN_PORT}
unix_socket_dir = /var/run/postgresql
auth_type = ${AUTH_TYPE}
auth_file = ${users}
admin_users = ${ADMIN_USERS:-postgres}
stats_users = ${STATS_USERS:-}
pool_mode = ${POOL_MODE}
default_pool_size = ${DEFAULT_POOL_SIZE}
max_client_conn = ${MAX_CLIENT_CONN}
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits,options
server_tls_sslmode = ${SERVER_TLS_SSLMODE:-prefer}
logfile =
log_connections = 0
log_disconnections = 0
INI
    echo "wrote $ini"
fi

if [ ! -f "$users" ] && [ -n "${DB_USER:-}" ]; then
    if [ "$AUTH_TYPE" = md5 ]; then
        # md5 verifier: "md5" + md5(password || username)
        pass="md5$(printf '%s%s' "${DB_PASSWORD:-}" "$DB_USER" | md5sum | cut -d' ' -f1)"
    else
        pass=${DB_PASSWORD:-}
    fi
    printf '"%s" "%s"\n' "$DB_USER" "$pass" > "$users"
    chmod 0600 "$users"
fi
exec "$@"
