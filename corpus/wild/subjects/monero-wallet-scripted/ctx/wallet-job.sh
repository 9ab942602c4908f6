#!/bin/sh
# Create (once) and query a Monero wallet without a terminal:
#   wallet-job.sh create   make the wallet file if it does not exist
#   wallet-job.sh balance  refresh and print address and balance
#   wallet-job.sh address  print the primary address
set -eu

. /etc/default/wallet-job

net_flag=""
case "$NETWORK" in
	stagenet) net_flag="--stagenet" ;;
	testnet) net_flag="--testnet" ;;
esac

cli() {
	# shellcheck disable=SC2086
	monero-wallet-cli $net_flag \
		--daemon-address "$DAEMON_ADDRESS" --trusted-daemon \
		--wallet-file "$WALLET_FILE" --password-file "$PASSWORD_FILE" \
		--log-file /wallet/monero-wallet-cli.log --log-level 0 \
		--command "$@"
}

create() {
	if [ -e "$WALLET_FILE.keys" ]; then
		echo "wallet-job: $WALLET_FILE exists, not creating"
		return 0
	fi
	# shellcheck disable=SC2086
	monero-wallet-cli $net_flag \
		--daemon-address "$DAEMON_ADDRESS" --trusted-daemon \
		--generate-new-wallet "$WALLET_FILE" --password-file "$PASSWORD_FILE" \
		--mnemonic-language English --restore-height "$RESTORE_HEIGHT" \
		--use-english-language-names --command exit
	chmod 0600 "$WALLET_FILE" "$WALLET_FILE.keys"
	echo "wallet-job: created $WALLET_FILE; back up the seed with: monero-wallet-cli --wallet-file $WALLET_FILE seed"
}

case "${1:-balance}" in
	create) create ;;
	balance) create; cli refresh; cli balance ;;
	address) cli address ;;
	*) echo "usage: wallet-job.sh [create|balance|address]" >&2; exit 2 ;;
esac
