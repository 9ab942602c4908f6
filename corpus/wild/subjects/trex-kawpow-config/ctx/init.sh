#!/bin/bash
if [ ! -f /config/config.json ]; then
	cp /home/nobody/config.json /config/config.json
fi

echo Starting T-Rex miner...
echo ============================================================
echo Server: $SERVER
echo Algorithm: $ALGO
echo Wallet: $WALLET
echo Worker: $WORKER
echo ============================================================

cd /home/nobody
exec ./t-rex -c /config/config.json -a "$ALGO" -o "$SERVER" -u "$WALLET" -p "$PASS" -w "$WORKER"
