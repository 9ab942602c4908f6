// Formatting and rendering for the pool dashboard (read-only).
function getReadableHashRateString(hashrate) {
  var i = 0;
  var units = [" H", " KH", " MH", " GH", " TH", " PH"];
  while (hashrate > 1000 && i < units.length - 1) {
    hashrate = hashrate / 1000;
    i++;
  }
  return hashrate.toFixed(2) + units[i] + "/sec";
}

function renderPools(url, table) {
  fetch(url).then(function (r) { return r.json(); }).then(function (data) {
    var rows = ["<tr><th>Pool</th><th>Stratum host</th><th>Ports</th><th>Fee</th><th>Hashrate</th><th>Share of network</th><th>Miners</th></tr>"];
    data.pools.forEach(function (p) {
      var share = (100 * p.hashrate / data.network_hashrate).toFixed(1) + "%";
      rows.push("<tr><td>" + p.name + "</td><td>" + p.stratum + "</td><td>" + p.ports.join(", ") +
        "</td><td>" + p.fee + "%</td><td>" + getReadableHashRateString(p.hashrate) + "</td><td>" + share +
        "</td><td>" + p.miners + "</td></tr>");
    });
    table.innerHTML = rows.join("");
  });
}

function updateStats() {
  fetch(api + "/stats").then(function (r) { return r.json(); }).then(function (s) {
    document.getElementById("poolHashrate").textContent = getReadableHashRateString(s.pool.hashrate);
    document.getElementById("poolMiners").textContent = s.pool.miners;
    document.getElementById("networkHashrate").textContent = getReadableHashRateString(s.network.difficulty / s.config.coinDifficultyTarget);
    document.getElementById("networkDifficulty").textContent = s.network.difficulty;
    document.getElementById("blockchainHeight").textContent = s.network.height;
  });
}

if (typeof api !== "undefined") { setInterval(updateStats, 10000); }
