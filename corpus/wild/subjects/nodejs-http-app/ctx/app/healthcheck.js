'use strict';
// Exit 0 when /healthz answers 200 within two seconds.
const http = require('node:http');

const req = http.get({ host: '127.0.0.1', port: process.env.PORT || 3000, path: '/healthz', timeout: 2000 }, (res) => {
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
