#!/bin/sh
# How the shop backend talks to the daemon (Electrum JSON-RPC).
# Creates a payment request for an order, then polls it.
set -eu
rpc="http://${ELECTRUM_USER}:${ELECTRUM_PASSWORD}@electrum:7777"
curl -s --data-binary '{"id":"1","method":"add_request","params":{"amount":0.0015,"memo":"order 1042","expiry":3600}}' "$rpc"
curl -s --data-binary '{"id":"2","method":"list_requests","params":{"pending":true}}' "$rpc"
curl -s --data-binary '{"id":"3","method":"getbalance","params":{}}' "$rpc"
