"use strict";
const net = require("net");

function loopback(host) {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

exports.connect = function (p) {
  if (!loopback(p.hostname)) {
    console.error(`refusing upstream ${p.hostname}:${p.port}: this stand-in only talks to loopback`);
    return null;
  }
  const s = net.connect(p.port, p.hostname, () => {
    s.write(JSON.stringify({ id: 1, jsonrpc: "2.0", method: "login",
      params: { login: p.username, pass: p.password, agent: "xmr-node-proxy/0.21.0" } }) + "\n");
  });
  s.on("error", () => {});
  return { submit: () => {} };
};
