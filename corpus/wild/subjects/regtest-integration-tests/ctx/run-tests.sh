#!/bin/sh
# Waits for the regtest node's RPC and runs the suite.
set -eu
: "${BITCOIN_RPC_PASSWORD_FILE:=/run/secrets/regtest_rpc_password}"
if [ -z "${BITCOIN_RPC_PASSWORD:-}" ] && [ -r "$BITCOIN_RPC_PASSWORD_FILE" ]; then
    BITCOIN_RPC_PASSWORD=$(cat "$BITCOIN_RPC_PASSWORD_FILE")
    export BITCOIN_RPC_PASSWORD
fi
tries=0
until python3 -c 'import sys; sys.path.insert(0, "/work/tests"); import harness; harness.proxy().getblockchaininfo()' 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "regtest node at $BITCOIN_RPC_URL did not answer" >&2
        exit 1
    fi
    sleep 1
done
exec python3 -m unittest discover -s /work/tests -p 'test_*.py' "$@"
