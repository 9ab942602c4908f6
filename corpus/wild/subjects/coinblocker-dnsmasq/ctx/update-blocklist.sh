#!/bin/sh
# Downloads the current list, accepts it only if it parses, swaps it in
# and tells dnsmasq to reread its hosts files.
set -eu
url=${LIST_URL:-https://zerodot1.gitlab.io/CoinBlockerLists/hosts}
dest=/etc/dnsmasq.blocklists/coinblocker.hosts
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
curl -fsS --max-time 60 --retry 2 -o "$tmp" "$url"
# Only comments, blank lines and "0.0.0.0 name" entries are accepted.
if grep -vEq '^(#.*|[[:space:]]*|0\.0\.0\.0[[:space:]]+[A-Za-z0-9._-]+)$' "$tmp"; then
    echo "$(date -u +%FT%TZ) rejected list from $url: unexpected lines" >&2
    exit 1
fi
n=$(grep -c '^0\.0\.0\.0' "$tmp" || true)
if [ "$n" -lt 100 ]; then
    echo "$(date -u +%FT%TZ) rejected list from $url: only $n entries" >&2
    exit 1
fi
install -m 0644 "$tmp" "$dest"
pkill -HUP -x dnsmasq || true
echo "$(date -u +%FT%TZ) blocklist updated: $n entries"
