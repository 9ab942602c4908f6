#!/bin/sh
# Prepare huge pages for PostgreSQL, initialise the cluster once, drop to
# the postgres user and exec the server.
set -eu

hugepage_kb=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
: "${hugepage_kb:=2048}"

to_kb() {
	case "$1" in
		*GB) echo $(( ${1%GB} * 1024 * 1024 )) ;;
		*MB) echo $(( ${1%MB} * 1024 )) ;;
		*kB) echo "${1%kB}" ;;
	esac
}

if [ "$(id -u)" = 0 ]; then
	# shared_buffers plus ~7% for the rest of shared memory, rounded up.
	need=$(( ($(to_kb "$PG_SHARED_BUFFERS") * 107 / 100 + hugepage_kb - 1) / hugepage_kb ))
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$need" ]; then
		if sysctl -w vm.nr_hugepages="$need" >/dev/null 2>&1; then
			echo "entrypoint: vm.nr_hugepages set to $need (${hugepage_kb} kB pages)"
		else
			echo "entrypoint: need vm.nr_hugepages>=$need but /proc/sys is read-only; set it on the host (sysctl vm.nr_hugepages=$need) or use huge_pages=try" >&2
		fi
	fi
	# The memlock limit must cover the mapping too.
	ulimit -l unlimited 2>/dev/null || true

	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		su postgres -s /bin/sh -c "initdb --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 -D '$PGDATA'"
		cat /etc/postgresql-common/hugepages.conf >> "$PGDATA/postgresql.conf"
		echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
	fi
	exec su postgres -s /bin/sh -c 'exec "$0" "$@"' -- "$@"
fi

exec "$@"
