#!/bin/sh
set -e

# First start: write bitcoin.conf unless the operator mounted one.
if [ ! -e "$BITCOIN_DATA/bitcoin.conf" ]; then
	btc_init
fi

exec "$@"
