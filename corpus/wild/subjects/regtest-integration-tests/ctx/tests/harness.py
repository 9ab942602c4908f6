"""Connection helpers for the regtest suite."""
import os
import urllib.parse

import bitcoin
import bitcoin.rpc

bitcoin.SelectParams(os.environ.get("BITCOIN_NETWORK", "regtest"))

WALLET = "itest"


def proxy(wallet=None):
    url = urllib.parse.urlsplit(os.environ.get("BITCOIN_RPC_URL", "http://127.0.0.1:18443"))
    netloc = "%s:%s@%s" % (
        os.environ.get("BITCOIN_RPC_USER", "regtest"),
        os.environ.get("BITCOIN_RPC_PASSWORD", ""),
        url.netloc,
    )
    path = "/wallet/%s" % wallet if wallet else ""
    return bitcoin.rpc.Proxy(service_url="%s://%s%s" % (url.scheme, netloc, path), timeout=60)


def ensure_wallet():
    node = proxy()
    loaded = node.call("listwallets")
    if WALLET not in loaded:
        try:
            node.call("loadwallet", WALLET)
        except bitcoin.rpc.JSONRPCError:
            node.call("createwallet", WALLET)
    return proxy(WALLET)


def mine(wallet, blocks):
    """Mines blocks to a fresh address of wallet (regtest only)."""
    if bitcoin.params.NAME != "regtest":
        raise RuntimeError("refusing to generate blocks outside regtest")
    address = wallet.call("getnewaddress", "mining", "bech32")
    return wallet.call("generatetoaddress", blocks, address)
