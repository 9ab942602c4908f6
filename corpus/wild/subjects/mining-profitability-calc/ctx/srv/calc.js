// Expected coins = (your hashrate / network hashrate) * blocks per day * reward.
var coins = {};

function perDay(c, hashrate) {
  var blocksPerDay = 86400 / c.block_time;
  return (hashrate / c.network_hashrate) * blocksPerDay * c.block_reward;
}

function render() {
  var c = coins[document.getElementById("coin").value];
  var h = Number(document.getElementById("hashrate").value) * c.unit_factor;
  var fee = 1 - Number(document.getElementById("fee").value) / 100;
  var kwh = Number(document.getElementById("power").value) * 24 / 1000;
  var cost = kwh * Number(document.getElementById("price").value);
  var rows = [["Day", 1], ["Week", 7], ["Month", 30]].map(function (p) {
    var n = perDay(c, h) * fee * p[1];
    var rev = n * c.price_usd;
    return "<tr><td>" + p[0] + "</td><td>" + n.toFixed(6) + " " + c.symbol + "</td><td>" + rev.toFixed(2) +
      "</td><td>" + (cost * p[1]).toFixed(2) + "</td><td>" + (rev - cost * p[1]).toFixed(2) + "</td></tr>";
  });
  document.getElementById("unit").textContent = c.unit;
  document.getElementById("result").innerHTML = "<tr><th>Period</th><th>Coins</th><th>Revenue (USD)</th><th>Power cost (USD)</th><th>Profit (USD)</th></tr>" + rows.join("");
  document.getElementById("pools").innerHTML = c.pools.map(function (p) { return "<li>" + p + "</li>"; }).join("");
}

fetch("data/coins.json").then(function (r) { return r.json(); }).then(function (data) {
  var sel = document.getElementById("coin");
  data.coins.forEach(function (c) {
    coins[c.symbol] = c;
    var o = document.createElement("option");
    o.value = c.symbol;
    o.textContent = c.name + " (" + c.algorithm + ")";
    sel.appendChild(o);
  });
  document.getElementById("calc").addEventListener("input", render);
  render();
});
