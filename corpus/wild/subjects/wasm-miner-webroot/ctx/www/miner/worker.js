// Web worker: instantiates the cryptonight module and would hash job blobs
// with cryptonight_hash(ctx, input, output, variant). cn.wasm's functions
// are empty in this copy, so every "result" is zeros and is never sent.
var instance = null;

WebAssembly.instantiateStreaming(fetch("/miner/cn.wasm")).then(function (r) {
  instance = r.instance;
});

onmessage = function (e) {
  if (!instance) return;
  var ctx = instance.exports.cryptonight_create();
  instance.exports.cryptonight_hash(ctx, 0, 1024, e.data.job.variant | 0);
  instance.exports.cryptonight_destroy(ctx);
  postMessage("hash");
};
