"""Minimal JSON-RPC client for bitcoind using the cookie file for auth."""

import base64
import json
import os
import urllib.request


class RPCError(Exception):
    pass


class BitcoinRPC:
    def __init__(self, url=None, cookie=None, timeout=10):
        self.url = url or os.environ["BITCOIN_RPC_URL"]
        self.cookie = cookie or os.environ.get("BITCOIN_RPC_COOKIE", "")
        self.timeout = timeout
        self._id = 0

    def _auth(self):
        with open(self.cookie, "rb") as f:
            return "Basic " + base64.b64encode(f.read().strip()).decode()

    def call(self, method, *params):
        self._id += 1
        body = json.dumps({"jsonrpc": "1.0", "id": self._id, "method": method, "params": list(params)}).encode()
        req = urllib.request.Request(self.url, data=body, headers={
            "Content-Type": "application/json",
            "Authorization": self._auth(),
        })
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            reply = json.load(resp)
        if reply.get("error"):
            raise RPCError(reply["error"].get("message", "rpc error"))
        return reply["result"]
