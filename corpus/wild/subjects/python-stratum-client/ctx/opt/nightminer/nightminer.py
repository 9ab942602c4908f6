#!/usr/bin/env python3
"""Stratum miner client (inert stand-in).

Speaks the Monero stratum dialect (login, job, submit, keepalived) as
newline-delimited JSON-RPC over a TCP socket, with nightminer-style options.
It refuses every pool that is not a loopback literal before resolving or
connecting, and contains no proof-of-work code: a job is printed, never
hashed, and submit() is never reached.
"""
import argparse
import ipaddress
import json
import socket
import sys
import time

USER_AGENT = "NightMiner/0.1-py"


def loopback_only(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Subscription:
    def __init__(self, sock, user, password, algo):
        self.sock = sock
        self.file = sock.makefile("r")
        self.user, self.password, self.algo = user, password, algo
        self.msg_id = 0
        self.worker_id = None

    def call(self, method, params):
        self.msg_id += 1
        req = {"id": self.msg_id, "jsonrpc": "2.0", "method": method, "params": params}
        self.sock.sendall((json.dumps(req) + "\n").encode())

    def login(self):
        self.call("login", {"login": self.user, "pass": self.password,
                            "agent": USER_AGENT, "algo": [self.algo]})

    def keepalived(self):
        self.call("keepalived", {"id": self.worker_id})

    def submit(self, job_id, nonce, result):
        self.call("submit", {"id": self.worker_id, "job_id": job_id,
                             "nonce": nonce, "result": result})

    def serve(self):
        for line in self.file:
            msg = json.loads(line)
            job = (msg.get("result") or {}).get("job") if msg.get("id") == 1 else None
            if msg.get("method") == "job":
                job = msg["params"]
            if job:
                self.worker_id = job.get("id", self.worker_id)
                print("[%s] job %s blob %s... target %s" % (time.strftime("%H:%M:%S"),
                      job.get("job_id"), job.get("blob", "")[:16], job.get("target")))
                return


def main(argv):
    p = argparse.ArgumentParser(description="CPU miner for stratum pools")
    p.add_argument("-o", "--url", required=True, help="stratum+tcp://HOST:PORT")
    p.add_argument("-u", "--user", required=True, help="wallet address")
    p.add_argument("-p", "--pass", dest="password", default="x")
    p.add_argument("-a", "--algo", default="rx/0", choices=["rx/0", "cn/r", "cn-lite/1"])
    p.add_argument("-t", "--threads", type=int, default=1)
    a = p.parse_args(argv)
    hostport = a.url.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    host = host.strip("[]")
    if not loopback_only(host):
        print("refusing pool %s: this client only connects to loopback" % a.url, file=sys.stderr)
        return 2
    sock = socket.create_connection((host, int(port)), timeout=5)
    sub = Subscription(sock, a.user, a.password, a.algo)
    sub.login()
    sub.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
