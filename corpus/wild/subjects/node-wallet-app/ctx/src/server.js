'use strict';
// Watch-only wallet API. Private keys never reach this service: clients
// sign on their devices and POST raw transactions, which are relayed to the
// operator's node.
const http = require('node:http');
const { URL } = require('node:url');
const addresses = require('./addresses');

const port = Number(process.env.PORT || 3000);
const net = process.env.WALLET_NETWORK || 'testnet';
const nodeURL = process.env.BITCOIN_RPC_URL || 'http://198.51.100.7:18332/';
const xpub = process.env.ACCOUNT_XPUB || '';

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function relay(rawTx) {
  const reply = await fetch(nodeURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '1.0', id: 'wallet-api', method: 'sendrawtransaction', params: [rawTx] }),
  });
  return reply.json();
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname === '/healthz') return send(res, 200, { ok: true, network: net });
    if (url.pathname === '/v1/address/btc') {
      const index = Number(url.searchParams.get('index') || 0);
      return send(res, 200, { index, address: addresses.bitcoinReceiveAddress(xpub, index, net) });
    }
    if (url.pathname === '/v1/address/eth') {
      const index = Number(url.searchParams.get('index') || 0);
      return send(res, 200, { index, address: addresses.ethereumAddress(xpub, index) });
    }
    if (url.pathname === '/v1/broadcast' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      return send(res, 200, await relay(JSON.parse(body).hex));
    }
    return send(res, 404, { error: 'not found' });
  } catch (err) {
    return send(res, 500, { error: String(err.message || err) });
  }
});

server.listen(port, () => console.log(`wallet-api listening on :${port} (${net})`));
