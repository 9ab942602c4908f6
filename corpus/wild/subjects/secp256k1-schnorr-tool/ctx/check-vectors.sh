#!/bin/sh
# Signs and verifies every row of a BIP-340 test-vector CSV with a secret
# key, and compares public key and signature with the expected ones.
set -eu
fail=0
tail -n +2 "$1" | while IFS=, read -r idx sk pk aux msg sig res; do
    [ -n "$sk" ] || continue
    got_pk=$(secp-tool pubkey "$sk")
    got_sig=$(secp-tool sign "$sk" "$msg" "$aux")
    if [ "$got_pk" != "$pk" ] || [ "$got_sig" != "$sig" ]; then
        echo "vector $idx: mismatch" >&2
        exit 1
    fi
    secp-tool verify "$pk" "$msg" "$sig" >/dev/null
    echo "vector $idx: ok ($res)"
done
exit $fail
