"use strict";
// Inert look-alike of deepMiner's server.js: serves ./web and accepts the
// browsers' websocket messages (auth, submit) that deepMiner.js sends; it
// would relay them as stratum login/submit to conf.pool with conf.addr.
// Every pool that is not a loopback literal is refused before any name is
// resolved, and nothing is hashed.
const fs = require("fs");
const http = require("http");
const net = require("net");
const path = require("path");

const conf = JSON.parse(fs.readFileSync(path.join(__dirname, "config.json"), "utf8"));
const [poolHost, poolPort] = conf.pool.split(":");
const loopback = (h) => h === "localhost" || h === "::1" || /^127\./.test(h);

function upstream() {
  if (!loopback(poolHost)) {
    console.error(`refusing pool ${conf.pool}: this stand-in only talks to loopback`);
    return null;
  }
  const s = net.connect(Number(poolPort), poolHost, () => {
    s.write(JSON.stringify({ id: 1, method: "login",
      params: { login: conf.addr, pass: conf.pass, agent: "deepMiner" } }) + "\n");
  });
  s.on("error", () => {});
  return s;
}

http.createServer((req, res) => {
  const root = path.join(__dirname, "web");
  const file = path.join(root, path.normalize(req.url === "/" ? "/index.html" : req.url));
  if (!file.startsWith(root)) { res.writeHead(403); return res.end(); }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); return res.end(); }
    res.writeHead(200);
    res.end(data);
  });
}).on("upgrade", (req, sock) => {
  // websocket channel of deepMiner.js: {type: "auth"|"submit", params: {...}}
  upstream();
  sock.end();
}).listen(conf.lport, conf.lhost, () => console.log(`deepMiner on ${conf.lhost}:${conf.lport} -> ${conf.pool}`));
