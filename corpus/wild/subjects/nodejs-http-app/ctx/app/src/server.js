'use strict';
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const store = require('./store');

const port = Number(process.env.PORT || 3000);

function send(res, status, body) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function readJSON(req) {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      raw += chunk;
      if (raw.length > 64 * 1024) reject(new Error('body too large'));
    });
    req.on('end', () => {
      try { resolve(raw ? JSON.parse(raw) : {}); } catch (e) { reject(e); }
    });
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const m = url.pathname.match(/^\/todos\/([0-9a-f-]{36})$/);
  try {
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.pathname === '/todos' && req.method === 'GET') return send(res, 200, store.list());
    if (url.pathname === '/todos' && req.method === 'POST') {
      const body = await readJSON(req);
      if (typeof body.title !== 'string' || body.title.trim() === '') return send(res, 400, { error: 'title is required' });
      return send(res, 201, store.add({ id: randomUUID(), title: body.title.trim(), done: false }));
    }
    if (m && req.method === 'PATCH') {
      const body = await readJSON(req);
      const t = store.update(m[1], { done: Boolean(body.done) });
      return t ? send(res, 200, t) : send(res, 404, { error: 'not found' });
    }
    if (m && req.method === 'DELETE') return store.remove(m[1]) ? send(res, 204) : send(res, 404, { error: 'not found' });
    send(res, 404, { error: 'not found' });
  } catch (err) {
    send(res, 400, { error: err.message });
  }
});

server.listen(port, () => console.log(`todo-api listening on :${port}`));

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
