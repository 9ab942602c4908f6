#!/bin/sh
set -e
kaspad --appdir=/home/kaspa/.kaspad --utxoindex --rpclisten=127.0.0.1:16110 --allow-submit-block-when-not-synced &
sleep 20
exec kaspaminer --rpcserver=127.0.0.1:16110 --mining-address=kaspa:qqep6h2df84j9u67jwm9easmzjv9lu0czvzx0s844nvndcxpcza7g4x0fngyt --mine-when-not-synced
