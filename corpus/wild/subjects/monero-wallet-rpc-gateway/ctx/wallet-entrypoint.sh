#!/bin/sh
# Runs monero-wallet-rpc with a wallet directory (wallets are created and
# opened over RPC), RPC login from a mounted secret, and a transaction
# notifier. A first run without a wallet creates the view-only wallet.
set -eu

login_file=${WALLET_RPC_LOGIN_FILE:-/run/secrets/wallet_rpc_login}
set -- --wallet-dir /wallet \
	--daemon-address "$MONERO_DAEMON_ADDRESS" --trusted-daemon \
	--rpc-bind-ip 0.0.0.0 --rpc-bind-port "$WALLET_RPC_PORT" --confirm-external-bind \
	--non-interactive --log-file /wallet/wallet-rpc.log --log-level 0 \
	--tx-notify "/usr/local/bin/notify-payment %s" "$@"
if [ -r "$login_file" ]; then
	set -- "$@" --rpc-login "$(cat "$login_file")"
else
	set -- "$@" --disable-rpc-login
fi

if [ ! -f "/wallet/$WALLET_NAME.keys" ]; then
	monero-wallet-rpc "$@" &
	pid=$!
	/usr/local/bin/create-wallet || { kill "$pid"; exit 1; }
	kill "$pid"
	wait "$pid" || true
fi

exec monero-wallet-rpc "$@"
