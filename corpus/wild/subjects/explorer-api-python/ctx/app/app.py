"""HTTP routes: /api/block/<hash-or-height>, /api/tx/<txid>, /api/mining."""

from flask import Flask, abort, jsonify

from .rpc import BitcoinRPC, RPCError

app = Flask(__name__)
rpc = BitcoinRPC()


@app.errorhandler(RPCError)
def rpc_failed(err):
    return jsonify(error=str(err)), 502


@app.get("/api/block/<ref>")
def block(ref):
    block_hash = rpc.call("getblockhash", int(ref)) if ref.isdigit() else ref
    return jsonify(rpc.call("getblock", block_hash, 1))


@app.get("/api/tx/<txid>")
def tx(txid):
    if len(txid) != 64:
        abort(400)
    return jsonify(rpc.call("getrawtransaction", txid, True))


@app.get("/api/tips")
def tips():
    return jsonify(rpc.call("getchaintips"))


@app.get("/api/mining")
def mining():
    # Read-only figures for the "Mining" panel: network hashrate,
    # difficulty and the next block's target and fees.
    info = rpc.call("getmininginfo")
    template = rpc.call("getblocktemplate", {"rules": ["segwit"]})
    return jsonify(
        blocks=info["blocks"],
        difficulty=info["difficulty"],
        networkhashps=info["networkhashps"],
        pooledtx=info["pooledtx"],
        next_height=template["height"],
        next_target=template["target"],
        next_fees=sum(t["fee"] for t in template["transactions"]),
    )


@app.get("/healthz")
def healthz():
    return jsonify(ok=True)
