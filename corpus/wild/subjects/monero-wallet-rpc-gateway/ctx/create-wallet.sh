#!/bin/sh
# Creates the shop's view-only wallet from its primary address and private
# view key (generate_from_keys without spendkey), then opens it so that
# monero-wallet-rpc keeps it loaded and scans from the restore height.
set -eu

: "${SHOP_ADDRESS:?set SHOP_ADDRESS to the shop's primary address}"
viewkey_file=${SHOP_VIEWKEY_FILE:-/run/secrets/shop_viewkey}
viewkey=$(cat "$viewkey_file")
password_file=${WALLET_PASSWORD_FILE:-/run/secrets/wallet_password}
password=$(cat "$password_file" 2>/dev/null || true)
rpc="http://127.0.0.1:${WALLET_RPC_PORT}/json_rpc"

call() {
	curl -fsS --retry 30 --retry-connrefused --retry-delay 2 \
		-H 'Content-Type: application/json' -d "$1" "$rpc"
}

call "$(jq -nc --arg a "$SHOP_ADDRESS" --arg v "$viewkey" --arg f "$WALLET_NAME" \
	--arg p "$password" --argjson h "$WALLET_RESTORE_HEIGHT" \
	'{jsonrpc:"2.0",id:"0",method:"generate_from_keys",
	  params:{restore_height:$h,filename:$f,address:$a,viewkey:$v,password:$p,autosave_current:true}}')" \
	| jq -e '.result.info' >/dev/null

call "$(jq -nc --arg f "$WALLET_NAME" --arg p "$password" \
	'{jsonrpc:"2.0",id:"0",method:"open_wallet",params:{filename:$f,password:$p}}')" \
	| jq -e '.result' >/dev/null
echo "create-wallet: view-only wallet $WALLET_NAME created from height $WALLET_RESTORE_HEIGHT"
