#!/bin/sh
# the operator's side: push the pool list to a miner found with its API open
curl -s -X PUT -H "Authorization: Bearer Zb3vQ9rT2mKx" -H "Content-Type: application/json" \
    --data-binary @1/config.json "http://$1:42000/1/config"
