#!/bin/sh
# StatefulSet pods are named <set>-0, <set>-1, ... and resolve as
# <pod>.<service domain>; the initial cluster is every ordinal below
# ETCD_CLUSTER_SIZE.
set -eu

host=$(hostname)
set_name=${host%-*}
fqdn="$host.$ETCD_CLUSTER_DOMAIN"

export ETCD_NAME="${ETCD_NAME:-$host}"
export ETCD_LISTEN_PEER_URLS="${ETCD_LISTEN_PEER_URLS:-http://0.0.0.0:2380}"
export ETCD_LISTEN_CLIENT_URLS="${ETCD_LISTEN_CLIENT_URLS:-http://0.0.0.0:2379}"
export ETCD_INITIAL_ADVERTISE_PEER_URLS="${ETCD_INITIAL_ADVERTISE_PEER_URLS:-http://$fqdn:2380}"
export ETCD_ADVERTISE_CLIENT_URLS="${ETCD_ADVERTISE_CLIENT_URLS:-http://$fqdn:2379}"

if [ -z "${ETCD_INITIAL_CLUSTER:-}" ]; then
	members=""
	i=0
	while [ "$i" -lt "$ETCD_CLUSTER_SIZE" ]; do
		members="${members:+$members,}$set_name-$i=http://$set_name-$i.$ETCD_CLUSTER_DOMAIN:2380"
		i=$((i + 1))
	done
	export ETCD_INITIAL_CLUSTER="$members"
fi

# A restarted member with data keeps its identity; the initial-cluster
# settings are ignored by etcd once the data directory holds a member.
if [ -d "$ETCD_DATA_DIR/member" ]; then
	echo "etcd-entrypoint: existing member data in $ETCD_DATA_DIR"
fi

exec etcd "$@"
