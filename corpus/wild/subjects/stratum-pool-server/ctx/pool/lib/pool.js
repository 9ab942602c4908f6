'use strict';
// Stratum server side of a CryptoNote pool: miners log in with their
// wallet, get jobs, submit shares. Skeleton only: jobs come from the
// daemon's getblocktemplate (not called here), shares are not verified,
// and every port binds the configured address (loopback by default).
const net = require('net');

const handlers = {
  login(miner, params) {
    miner.login = params.login;
    return { id: miner.id, job: currentJob(miner), status: 'OK' };
  },
  getjob(miner) {
    return currentJob(miner);
  },
  submit(miner, params) {
    miner.shares = (miner.shares || 0) + 1;
    return { status: params.job_id ? 'OK' : 'Invalid job id' };
  },
  keepalived() {
    return { status: 'KEEPALIVED' };
  },
};

let seq = 0;
function currentJob(miner) {
  return { job_id: String(++seq), blob: '', target: miner.target, id: miner.id };
}

function start(config) {
  const bind = config.poolServer.bindAddress || '127.0.0.1';
  for (const p of config.poolServer.ports) {
    net.createServer((sock) => {
      const miner = { id: String(Date.now()), target: p.difficulty.toString(16) };
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const req = JSON.parse(buf.slice(0, i));
          buf = buf.slice(i + 1);
          const h = handlers[req.method];
          const reply = h ? { id: req.id, jsonrpc: '2.0', error: null, result: h(miner, req.params || {}) }
            : { id: req.id, jsonrpc: '2.0', error: { code: -1, message: 'Invalid method' } };
          sock.write(JSON.stringify(reply) + '\n');
        }
      });
    }).listen(p.port, bind, () => console.log(`pool: port ${p.port} diff ${p.difficulty} (${p.desc})`));
  }
}

module.exports = { start };
