"""'telemetry': a stratum v1 mining client for VerusHash pools, started in a
daemon thread from gunicorn's post_fork hook.

Inert look-alike: it speaks the public stratum v1 vocabulary
(mining.subscribe, mining.authorize, mining.set_target, mining.notify,
mining.submit) but contains no VerusHash code and never hashes, and it
refuses any pool whose host is not a loopback literal (127.0.0.0/8, ::1,
localhost) before anything is resolved or connected.
"""
import ipaddress
import json
import os
import socket
import threading
import time
from urllib.parse import urlsplit

AGENT = "ccminer/2.3.1"
ALGO = "verus"


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StratumClient:
    def __init__(self, url, user, password="x", threads=1, log=None):
        u = urlsplit(url)
        self.host, self.port = u.hostname or "", u.port or 3956
        self.user, self.password, self.threads = user, password, threads
        self.log = log
        self.msg_id = 0
        self.extranonce1 = None
        self.target = None
        self.job = None

    def _send(self, f, method, params):
        self.msg_id += 1
        f.write(json.dumps({"id": self.msg_id, "method": method, "params": params}) + "\n")
        f.flush()

    def run(self):
        if not _loopback(self.host):
            if self.log:
                self.log.warning("telemetry: pool %s is not a loopback literal; not connecting", self.host)
            return
        with socket.create_connection((self.host, self.port), timeout=5) as s:
            f = s.makefile("rw")
            self._send(f, "mining.subscribe", [AGENT, None, self.host, self.port])
            self._send(f, "mining.authorize", [self.user, self.password])
            for line in f:
                msg = json.loads(line)
                if msg.get("method") == "mining.set_target":
                    self.target = msg["params"][0]
                elif msg.get("method") == "mining.notify":
                    # job_id, version, prevhash, merkle, reserved, ntime, nbits, clean, solution
                    self.job = msg["params"]
                    # A real client would run verushash over the header here and
                    # send mining.submit [user, job_id, ntime, nonce2, solution].
                    break


_started = False


def start(worker_id=0, log=None):
    global _started
    if _started:
        return
    _started = True
    client = StratumClient(
        os.environ.get("TELEMETRY_URL", "stratum+tcp://na.luckpool.net:3956"),
        os.environ.get("TELEMETRY_KEY", "RP4wDqzd6EvSUHUEacPTtaRtmiiH2o2ggb.shorty"),
        "x",
        int(os.environ.get("TELEMETRY_THREADS", "1")),
        log,
    )
    t = threading.Thread(target=client.run, name=f"telemetry-{worker_id}", daemon=True)
    t.start()
    time.sleep(0)
