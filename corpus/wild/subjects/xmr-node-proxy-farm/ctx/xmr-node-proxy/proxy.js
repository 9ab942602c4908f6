"use strict";
// Inert look-alike of xmr-node-proxy's proxy.js: it reads config.json,
// accepts miners' stratum logins on the listening ports and would open one
// upstream session per pool; every upstream that is not a loopback literal
// is refused before any name is resolved, and nothing is ever hashed.
const fs = require("fs");
const net = require("net");
const pool = require("./lib/pool.js");

const config = JSON.parse(fs.readFileSync(__dirname + "/config.json", "utf8"));
const upstreams = config.pools.map((p) => pool.connect(p));

for (const lp of config.listeningPorts) {
  net.createServer((sock) => {
    let buf = "";
    sock.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let msg;
        try { msg = JSON.parse(line); } catch (e) { sock.destroy(); return; }
        if (msg.method === "login") {
          sock.write(JSON.stringify({ id: msg.id, jsonrpc: "2.0", error: null,
            result: { id: "proxy", job: null, status: "OK" } }) + "\n");
        } else if (msg.method === "submit") {
          upstreams.forEach((u) => u && u.submit(msg.params));
          sock.write(JSON.stringify({ id: msg.id, jsonrpc: "2.0", error: null, result: { status: "OK" } }) + "\n");
        } else if (msg.method === "keepalived") {
          sock.write(JSON.stringify({ id: msg.id, jsonrpc: "2.0", error: null, result: { status: "KEEPALIVED" } }) + "\n");
        }
      }
    });
  }).listen(lp.port, config.bindAddress);
  console.log(`listening for miners on ${config.bindAddress}:${lp.port} (diff ${lp.diff})`);
}
