#!/bin/sh
# Re-checks the proof of work of the blocks an explorer indexed. The
# indexer exports one line per block: seed hash (the block id at the
# RandomX seed height, which changes every 2048 blocks with a 64-block
# lag), the block's hashing blob, its difficulty and the pow_hash it
# stored. Results go to audit.jsonl; the exit status is non-zero when a
# block does not check out.
set -eu

input=${1:-/var/lib/rxverify/blocks.txt}
out=${AUDIT_OUTPUT:-/var/lib/rxverify/audit.jsonl}

if [ ! -s "$input" ]; then
	echo "audit-blocks: $input is empty or missing; see /usr/local/share/rxverify/blocks.example.txt" >&2
	exit 2
fi

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
status=0
rxverify batch < "$input" > "$out.tmp" || status=$?
mv "$out.tmp" "$out"
total=$(wc -l < "$out")
invalid=$(grep -c '"valid":false' "$out" || true)
printf '{"started":"%s","blocks":%s,"invalid":%s}\n' "$started" "$total" "$invalid"
exit "$status"
