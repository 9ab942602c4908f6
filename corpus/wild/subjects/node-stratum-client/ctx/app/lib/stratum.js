'use strict';
// Newline-delimited JSON-RPC over a plain TCP socket, the way pool
// clients talk stratum: Bitcoin-style mining.subscribe / mining.authorize /
// mining.submit, and the Monero dialect login / job / submit / keepalived.
// Inert: connect() refuses any host that is not a loopback literal before a
// name is resolved, and submit() is never called because nothing hashes.
const net = require('net');
const { EventEmitter } = require('events');

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

class StratumClient extends EventEmitter {
  constructor(opts) {
    super();
    this.opts = opts;
    this.seq = 1;
    this.buf = '';
  }

  connect() {
    const { host, port } = this.opts;
    if (!LOOPBACK.test(host)) {
      this.emit('error', new Error(`refusing pool ${host}:${port}: this worker only talks to loopback`));
      return;
    }
    this.sock = net.connect({ host, port }, () => {
      this.send('mining.subscribe', [this.opts.agent]);
      this.send('mining.authorize', [this.opts.user, this.opts.pass]);
      this.send('login', { login: this.opts.user, pass: this.opts.pass, agent: this.opts.agent, algo: ['rx/0'] });
    });
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', (e) => this.emit('error', e));
  }

  send(method, params) {
    this.sock.write(JSON.stringify({ id: this.seq++, jsonrpc: '2.0', method, params }) + '\n');
  }

  submit(jobId, nonce, result) {
    this.send('submit', { id: this.workerId, job_id: jobId, nonce, result });
  }

  onData(chunk) {
    this.buf += chunk;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      let msg;
      try { msg = JSON.parse(line); } catch (e) { continue; }
      if (msg.method === 'job') this.emit('job', msg.params);
      else if (msg.result && msg.result.job) {
        this.workerId = msg.result.id;
        this.emit('job', msg.result.job);
      } else if (msg.method === 'mining.notify') this.emit('job', { job_id: msg.params[0] });
    }
  }
}

module.exports = { StratumClient };
