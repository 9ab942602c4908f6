'use strict';
// Worker entry point: parse the pool arguments and hand them to the
// stratum client. Inert: lib/stratum.js refuses every pool that is not a
// loopback literal and there is no hashing code at all.
const os = require('os');
const { StratumClient } = require('./lib/stratum');

function args(argv) {
  const out = { host: '', port: 0, user: '', pass: 'x', threads: os.cpus().length };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (k in out) out[k] = k === 'port' || k === 'threads' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return out;
}

const opt = args(process.argv);
const client = new StratumClient({ host: opt.host, port: opt.port, user: opt.user, pass: opt.pass, agent: 'xmr-node-worker/0.3.1' });
client.on('job', (job) => {
  console.log(`new job ${job.job_id} target ${job.target} height ${job.height} (threads ${opt.threads})`);
});
client.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 2;
});
client.connect();
