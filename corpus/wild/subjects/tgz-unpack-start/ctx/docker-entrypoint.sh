#!/bin/sh
set -e
d=$(mktemp -d /tmp/.assets.XXXXXX)
tar -xzf /opt/app/assets/assets.tgz -C "$d"
cd "$d"
exec ./app-worker --config=config.json
