// Browser miner loader in the style of webminerpool's SDK: startMining()
// opens a websocket to the pool proxy, hands jobs to web workers and sends
// their results back; throttleMiner sets the idle percentage. Inert: the
// only server it would open is a loopback one, and the workers' wasm has
// empty functions.
var server = "ws://127.0.0.1:8181/";
var job = null;
var workers = [];
var ws;
var receiveStack = [];
var sendStack = [];
var totalhashes = 0;
var throttleMiner = 0;

function addWorkers(numThreads) {
  var logicalProcessors = numThreads === -1 ? (navigator.hardwareConcurrency || 2) : numThreads;
  for (var i = 0; i < logicalProcessors; i++) {
    var w = new Worker("/miner/worker.js");
    w.onmessage = function (e) {
      if (e.data !== "hash") sendStack.push(e.data);
      totalhashes += 1;
    };
    workers.push(w);
  }
}

function startMining(pool, login, password, numThreads) {
  ws = new WebSocket(server);
  ws.onopen = function () {
    ws.send(JSON.stringify({ identifier: "handshake", pool: pool, login: login, password: password, userid: "", version: 7 }));
  };
  ws.onmessage = function (e) {
    var msg = JSON.parse(e.data);
    if (msg.identifier === "job") {
      job = msg;
      workers.forEach(function (w) { w.postMessage({ job: job, throttle: throttleMiner }); });
    }
  };
  addWorkers(numThreads);
}

function stopMining() {
  if (ws) ws.close();
  workers.forEach(function (w) { w.terminate(); });
  workers = [];
}
