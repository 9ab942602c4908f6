package hierarchical_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// The project's two inert miner stand-ins, built at test time and installed
// under names that are not miner names, in disguised paths, as campaigns do
// (Sysdig 2022 Cloud-Native Threat Report; Aqua Security and Trend Micro
// reports on Kinsing). Their verdicts must come from content and configuration,
// never from a name.

var (
	standIns    sync.Once
	xmrigishBin string
	minerdBin   string
	standInErr  [2]error
	standInDir  string
)

func buildStandIns() {
	standIns.Do(func() {
		var err error
		standInDir, err = os.MkdirTemp("", "hier-standins-")
		if err != nil {
			standInErr = [2]error{err, err}
			return
		}
		// corpus/xmrigish: XMRig-like C program (see its README).
		xmrigishBin = filepath.Join(standInDir, "xmrigish")
		srcs, _ := filepath.Glob("../../corpus/xmrigish/src/*.c")
		if gcc, err := exec.LookPath("gcc"); err != nil || len(srcs) == 0 {
			standInErr[0] = fmt.Errorf("gcc or sources missing: %v (%d sources)", err, len(srcs))
		} else if out, err := exec.Command(gcc, append([]string{"-O2", "-std=gnu11", "-o", xmrigishBin}, srcs...)...).CombinedOutput(); err != nil {
			standInErr[0] = fmt.Errorf("gcc: %v\n%s", err, out)
		}
		// corpus/drupal/minerd: cpuminer-like Go program.
		minerdBin = filepath.Join(standInDir, "minerd")
		standInErr[1] = drupal.BuildMinerd(minerdBin)
	})
}

func standIn(t *testing.T, which int) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the stand-ins")
	}
	buildStandIns()
	if err := standInErr[which]; err != nil {
		t.Skipf("stand-in not built: %v", err)
	}
	p := []string{xmrigishBin, minerdBin}[which]
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runSh is corpus/xmrigish's wrapper style: hugepages, then the renamed
// binary through a variable in a nohup restart loop.
func runSh(bin string) string {
	return "#!/bin/sh\n# system update helper\nDIR=/opt/.cache\nBIN=" + bin + "\nsysctl -w vm.nr_hugepages=1280 >/dev/null 2>&1\ncd \"$DIR\" || exit 1\n" +
		"while true; do\n    nohup \"$BIN\" --config=\"$DIR/config.json\" >/dev/null 2>&1\n    sleep 30\ndone\n"
}

var nameRules = []string{hierarchical.RuleMinerBinary, hierarchical.RuleEntrypointMiner, hierarchical.RuleRunMiner}

func scoreBySource(v detectors.Verdict) string {
	by := map[string][]detectors.Finding{}
	for _, f := range v.Findings {
		by[f.Path] = append(by[f.Path], f)
	}
	var keys []string
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		s, _ := hierarchical.Score(by[k])
		var rules []string
		for _, f := range by[k] {
			rules = append(rules, fmt.Sprintf("%s(%g)", f.Rule, f.Weight))
		}
		fmt.Fprintf(&b, "\n  %-40s %4g  %s", k, s, strings.Join(rules, " "))
	}
	return b.String()
}

func TestRenamedStandIns(t *testing.T) {
	tests := []struct {
		name     string
		which    int // 0 xmrigish, 1 minerd
		img      func(t *testing.T, bin string) v1.Image
		want     detectors.Decision
		wantRule []string
	}{
		{"xmrigish as kworkerd, CMD -> run.sh -> $BIN, no config.json", 0, func(t *testing.T, bin string) v1.Image {
			return dt.Image(t, v1.Config{Cmd: []string{"/opt/.cache/run.sh"}},
				dt.Step{CreatedBy: "COPY kworkerd /usr/local/bin/kworkerd # buildkit", Files: []dt.File{dt.Exec("usr/local/bin/kworkerd", bin)}},
				dt.Step{CreatedBy: "COPY run.sh /opt/.cache/run.sh # buildkit", Files: []dt.File{dt.Exec("opt/.cache/run.sh", runSh("/usr/local/bin/kworkerd"))}})
		}, detectors.Malicious, []string{hierarchical.RuleELFStratum, hierarchical.RuleELFMinerAgent, hierarchical.RuleStartedFlaggedFile}},
		{"xmrigish alone in a hidden directory, started by nothing", 0, func(t *testing.T, bin string) v1.Image {
			return dt.Image(t, v1.Config{Cmd: []string{"/bin/sh"}},
				dt.Run("install", dt.Exec("var/lib/.x/sysupdate", bin)))
		}, detectors.Malicious, []string{hierarchical.RuleELFStratum}},
		{"minerd as kthreadd, ENTRYPOINT with a config file", 1, func(t *testing.T, bin string) v1.Image {
			return dt.Image(t, v1.Config{Entrypoint: []string{"/usr/lib/.cache/kthreadd", "-c", "/etc/kthreadd.json"}},
				dt.Step{CreatedBy: "COPY kthreadd /usr/lib/.cache/kthreadd # buildkit", Files: []dt.File{dt.Exec("usr/lib/.cache/kthreadd", bin)}})
		}, detectors.Malicious, []string{hierarchical.RuleELFStratum, hierarchical.RuleStartedFlaggedFile}},
		{"minerd gzipped, inflated at start by sh -c", 1, func(t *testing.T, bin string) v1.Image {
			return dt.Image(t, v1.Config{Cmd: []string{"sh", "-c", "gunzip -c /opt/data.bin.gz > /tmp/k && chmod +x /tmp/k && exec /tmp/k"}},
				dt.Step{CreatedBy: "COPY data.bin.gz /opt/ # buildkit", Files: []dt.File{dt.Text("opt/data.bin.gz", gzipped(t, bin))}})
		}, detectors.Malicious, []string{hierarchical.RuleELFStratum}},
		{"minerd renamed, pool only as base64 in ENV", 1, func(t *testing.T, bin string) v1.Image {
			pool := base64.StdEncoding.EncodeToString([]byte("-o stratum+tcp://pool.supportxmr.com:3333 -u " + wallet + " -p x"))
			return dt.Image(t, v1.Config{Env: []string{"OPTS=" + pool}, Cmd: []string{"sh", "-c", "exec /usr/sbin/crond-helper $(echo $OPTS | base64 -d)"}},
				dt.Step{CreatedBy: "COPY crond-helper /usr/sbin/ # buildkit", Files: []dt.File{dt.Exec("usr/sbin/crond-helper", bin)}})
		}, detectors.Malicious, []string{hierarchical.RuleStratumURL, hierarchical.RuleMoneroWallet}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := standIn(t, tt.which)
			v := scan(t, tt.img(t, bin))
			t.Logf("%s: score %g, blamed %v; per path:%s", v.Decision, v.Score, v.BlamedLayers, scoreBySource(v))
			if v.Decision != tt.want {
				t.Errorf("decision %s (score %g), want %s", v.Decision, v.Score, tt.want)
			}
			for _, r := range nameRules {
				if len(findings(v, r)) > 0 {
					t.Errorf("name-based rule %s fired on a renamed binary: %+v", r, findings(v, r))
				}
			}
			for _, r := range tt.wantRule {
				if len(findings(v, r)) == 0 {
					t.Errorf("no %s finding", r)
				}
			}
			if tt.which == 0 {
				// corpus/xmrigish's independence check: nothing cites the
				// other stand-in's vocabulary.
				for _, f := range v.Findings {
					for _, s := range []string{"cpuminer-multi/0.1", "minerd", "OhGodAPet", "cpuminer", "minergate", "lucasjones", "mining.subscribe"} {
						if strings.Contains(strings.ToLower(f.Evidence+" "+f.Path), strings.ToLower(s)) {
							t.Errorf("finding %s cites %q: %+v", f.Rule, s, f)
						}
					}
				}
			}
		})
	}
}

// TestStartChain: ENTRYPOINT/CMD -> script(s) -> program, resolved in the
// final view, with strong evidence tied back to the config; benign wrappers
// stay clean.
func TestStartChain(t *testing.T) {
	miner := elfWith(t, "login", "job", "submit", "keepalived", `{"id":1,"method":"%s","params":{"job_id":"%s"}}`)
	tests := []struct {
		name  string
		cfg   v1.Config
		files []dt.File
		want  string // substring of the hier-started-flagged-file evidence; "" = must not fire
	}{
		{"CMD -> run.sh -> $BIN", v1.Config{Cmd: []string{"/opt/.cache/run.sh"}},
			[]dt.File{dt.Exec("opt/.cache/run.sh", runSh("/usr/local/bin/kworkerd")), dt.Exec("usr/local/bin/kworkerd", miner)},
			"CMD starts /opt/.cache/run.sh, which runs /usr/local/bin/kworkerd, which carries elf-stratum-methods"},
		{"ENTRYPOINT sh script -> second script -> ./relative after cd", v1.Config{Entrypoint: []string{"sh", "/init.sh"}},
			[]dt.File{dt.Exec("init.sh", "#!/bin/sh\nexec /opt/stage2.sh \"$@\"\n"), dt.Exec("opt/stage2.sh", "#!/bin/sh\ncd /var/lib/.d\n./dbus-daemon-helper &\nwait\n"),
				dt.Exec("var/lib/.d/dbus-daemon-helper", miner)},
			"which runs /opt/stage2.sh, which runs /var/lib/.d/dbus-daemon-helper"},
		{"script next to its program via dirname $0", v1.Config{Cmd: []string{"/srv/bin/start"}},
			[]dt.File{dt.Exec("srv/bin/start", "#!/bin/bash\nD=\"$(cd \"$(dirname \"$0\")\" && pwd)\"\nexec \"$D/worker\" --quiet\n"), dt.Exec("srv/bin/worker", miner)},
			"which runs /srv/bin/worker"},
		{"bare name through PATH and a symlinked /bin", v1.Config{Cmd: []string{"/entry.sh"}},
			[]dt.File{dt.Symlink("bin", "usr/bin"), dt.Exec("entry.sh", "#!/bin/sh\nsetsid kswapd0 >/dev/null 2>&1 &\n"), dt.Exec("usr/bin/kswapd0", miner)},
			"which runs /usr/bin/kswapd0"},
		{"ENTRYPOINT wrapper exec \"$@\" with the program in CMD", v1.Config{Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"/usr/local/bin/node-agent"}},
			[]dt.File{dt.Exec("docker-entrypoint.sh", "#!/bin/sh\nset -e\nexec \"$@\"\n"), dt.Exec("usr/local/bin/node-agent", miner)},
			"CMD starts /usr/local/bin/node-agent, which carries elf-stratum-methods"},
		// Benign: official-image wrappers starting ordinary programs.
		{"docker-php-entrypoint -> apache2-foreground", v1.Config{Entrypoint: []string{"docker-php-entrypoint"}, Cmd: []string{"apache2-foreground"}},
			[]dt.File{dt.Exec("usr/local/bin/docker-php-entrypoint", "#!/bin/sh\nset -e\nif [ \"${1#-}\" != \"$1\" ]; then\n\tset -- apache2-foreground \"$@\"\nfi\nexec \"$@\"\n"),
				dt.Exec("usr/local/bin/apache2-foreground", "#!/bin/bash\nset -e\n: \"${APACHE_CONFDIR:=/etc/apache2}\"\nexec apache2 -DFOREGROUND \"$@\"\n"),
				dt.Exec("usr/sbin/apache2", machineFile(t, "/bin/ls"))}, ""},
		{"Debian cron script as the command", v1.Config{Cmd: []string{"/etc/cron.daily/logrotate"}},
			[]dt.File{dt.Exec("etc/cron.daily/logrotate", testdata(t, "debian/cron.daily-logrotate")), dt.Exec("usr/sbin/logrotate", machineFile(t, "/bin/ls"))}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := scan(t, dt.Image(t, tt.cfg, dt.Step{CreatedBy: "COPY . / # buildkit", Files: tt.files}))
			got := findings(v, hierarchical.RuleStartedFlaggedFile)
			if tt.want == "" {
				if len(got) > 0 || v.Decision != detectors.Clean {
					t.Errorf("benign: %s %v %+v", v.Decision, v.Score, v.Findings)
				}
				return
			}
			for _, f := range got {
				if strings.Contains(f.Evidence, tt.want) {
					return
				}
			}
			t.Errorf("no %s finding with %q: %+v", hierarchical.RuleStartedFlaggedFile, tt.want, got)
		})
	}
}

// TestProtocolOnlyRenamedELF documents the weakest renamed miner: an ELF
// with nothing but the CryptoNote stratum's method names, started by the
// config. Alone it scores 9 (elf-stratum-methods 6 + the start chain 3), one
// point short; any other mining evidence in the image decides.
func TestProtocolOnlyRenamedELF(t *testing.T) {
	bin := elfWith(t, "login", "job", "submit", "keepalived", `{"id":1,"method":"%s","params":{"job_id":"%s"}}`)
	direct := dt.Image(t, v1.Config{Cmd: []string{"/opt/.x/agent"}}, dt.Run("install", dt.Exec("opt/.x/agent", bin)))
	v := scan(t, direct)
	if v.Score != 9 || v.Decision != detectors.Clean {
		t.Errorf("started directly: %s score %v, want clean 9: %+v", v.Decision, v.Score, v.Findings)
	}
	wrapped := dt.Image(t, v1.Config{Cmd: []string{"/opt/.x/run.sh"}}, dt.Run("install", dt.Exec("opt/.x/agent", bin),
		dt.Exec("opt/.x/run.sh", "#!/bin/sh\nsysctl -w vm.nr_hugepages=1280\nexec /opt/.x/agent\n")))
	if v := scan(t, wrapped); v.Decision != detectors.Malicious {
		t.Errorf("with a hugepages wrapper: %s score %v, want malicious", v.Decision, v.Score)
	}
}
