'use strict';
const http = require('http');
const UAParser = require('ua-parser-js');

const port = Number(process.env.PORT || 3000);

http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok\n');
  }
  const ua = new UAParser(req.headers['user-agent'] || '').getResult();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(ua) + '\n');
}).listen(port, () => console.log(`device-insights listening on :${port}`));
