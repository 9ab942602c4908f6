/* worker.js - would load lib/cryptonight.wasm and hash job.blob against
 * job.target, posting {job_id, nonce, result}; this look-alike echoes the
 * job id back without hashing. */
self.onmessage = function (e) {
  var job = e.data.job || {};
  self.postMessage({ job_id: job.job_id, nonce: "00000000", result: "" });
};
