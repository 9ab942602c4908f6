#!/bin/sh
# Builds SRBMiner-MULTI's command line from the environment.
set -eu
if [ -z "${POOL_ADDRESS:-}" ] || [ -z "${WALLET_USER:-}" ]; then
  echo "set POOL_ADDRESS and WALLET_USER (docker run -e ... or compose environment:)" >&2
  exit 64
fi
# shellcheck disable=SC2086
exec /opt/SRBMiner-Multi/SRBMiner-MULTI --algorithm "$ALGO" --pool "$POOL_ADDRESS" \
  --wallet "$WALLET_USER" --worker "${WORKER:-docker}" --password "${PASSWORD:-x}" \
  --disable-auto-affinity ${EXTRAS:-} "$@"
