#!/bin/sh
# Configures and starts a headless Electrum daemon with a watch-only
# wallet (Electrum docs, "JSON-RPC commands": setconfig rpcport/rpcuser/
# rpcpassword, restore from an xpub, daemon, load_wallet).
set -eu

net=""
[ "$ELECTRUM_NETWORK" = testnet ] && net=--testnet
wallet="$HOME/.electrum/wallets/shop_watchonly"
[ "$ELECTRUM_NETWORK" = testnet ] && wallet="$HOME/.electrum/testnet/wallets/shop_watchonly"

: "${ELECTRUM_PASSWORD:=$(cat "${ELECTRUM_PASSWORD_FILE:-/run/secrets/electrum_rpc_password}")}"

electrum $net --offline setconfig rpcport "$ELECTRUM_RPCPORT"
electrum $net --offline setconfig rpchost 0.0.0.0
electrum $net --offline setconfig rpcuser "$ELECTRUM_USER"
electrum $net --offline setconfig rpcpassword "$ELECTRUM_PASSWORD"
electrum $net --offline setconfig log_to_file false
if [ -n "$ELECTRUM_SERVER" ]; then
	electrum $net --offline setconfig server "$ELECTRUM_SERVER"
	electrum $net --offline setconfig oneserver true
fi

if [ ! -f "$wallet" ]; then
	: "${SHOP_XPUB:?set SHOP_XPUB to the shop's extended public key (xpub/zpub)}"
	electrum $net --offline -w "$wallet" restore "$SHOP_XPUB"
	echo "electrum-daemon: watch-only wallet restored from the shop's public key"
fi

# Load the wallet once the daemon answers, then stay in the foreground.
(
	for _ in $(seq 1 30); do
		if electrum $net load_wallet -w "$wallet" >/dev/null 2>&1; then
			echo "electrum-daemon: wallet loaded"
			exit 0
		fi
		sleep 2
	done
	echo "electrum-daemon: could not load the wallet" >&2
) &

exec electrum $net daemon
