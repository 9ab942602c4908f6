package hierarchical

import (
	"bytes"
	"github.com/strata-sec/strata/internal/layers"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// machineFile reads a file of this machine, skipping the test without it.
func machineBytes(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("%s not available: %v", p, err)
	}
	return b
}

// elfWithStrings is /bin/ls with extra NUL-terminated strings appended, as
// string constants sit in .rodata.
func elfWithStrings(t testing.TB, extra ...string) []byte {
	return append(append(machineBytes(t, "/bin/ls"), 0), []byte(strings.Join(extra, "\x00")+"\x00")...)
}

func analyzeBytes(t testing.TB, p string, mode fs.FileMode, b []byte) fileResult {
	t.Helper()
	e := &layers.Entry{Path: p, Type: layers.TypeFile, Mode: mode, Size: int64(len(b))}
	fr, err := analyzeFile(e, bytes.NewReader(b), fileOpts{maxScriptBytes: DefaultMaxScriptBytes})
	if err != nil {
		t.Fatalf("analyzeFile(%s): %v", p, err)
	}
	return fr
}

func hitOf(fr fileResult, rule string) (hit, bool) {
	for _, h := range fr.hits {
		if h.rule == rule {
			return h, true
		}
	}
	return hit{}, false
}

// TestStratumMethodsAndAgents: the binary rules whose matching changed in
// 0.2.0, with positives from the miners' public sources and negatives from
// real software that shares their words.
func TestStratumMethodsAndAgents(t *testing.T) {
	tests := []struct {
		name string
		path string
		body func(t testing.TB) []byte
		rule string
		want bool
		ev   string // substring of the evidence, if want
	}{
		// CryptoNote stratum (XMRig Client.cpp, cpuminer-multi RPC2).
		{"xmrig-only protocol: distinct methods counted", "opt/x", func(t testing.TB) []byte {
			return elfWithStrings(t, "login", "job", "submit", "keepalived", `{"id":%d,"jsonrpc":"2.0","method":"%s","params":{"id":"%s","job_id":"%s"}}`)
		}, RuleELFStratum, true, "login, job, submit, keepalived"},
		{"cpuminer RPC2 login/getjob", "opt/x", func(t testing.TB) []byte {
			return elfWithStrings(t, `{"method": "login", "params": {"login": "%s", "pass": "%s", "agent": "%s"}, "id": 1}`, `{"method": "getjob", "params": {"id": "%s"}, "id": 1}`, "job_id")
		}, RuleELFStratum, true, "login, getjob"},
		{"Bitcoin stratum", "opt/x", func(t testing.TB) []byte { return elfWithStrings(t, "mining.subscribe", "mining.authorize") },
			RuleELFStratum, true, "mining.authorize, mining.subscribe"},
		{"systemd D-Bus GetJob is not getjob", "usr/lib/x86_64-linux-gnu/systemd/libsystemd-core.so", func(t testing.TB) []byte {
			return elfWithStrings(t, "GetJob", "login", "job", "job_id", "Submit")
		}, RuleELFStratum, false, ""},
		{"keepalived daemon words without the protocol", "usr/sbin/keepalived", func(t testing.TB) []byte {
			return elfWithStrings(t, "keepalived", "login", "submit", "job")
		}, RuleELFStratum, false, ""},
		{"methods inside longer words", "opt/x", func(t testing.TB) []byte {
			return elfWithStrings(t, "keepalived.conf", "user_login_failed", "job_id", "getjobs")
		}, RuleELFStratum, false, ""},
		{"miner client source with escaped JSON", "src/util.c", func(testing.TB) []byte {
			return []byte(`s = "{\"method\": \"login\", \"params\": {\"login\": \"%s\"}}"; k = "{\"method\": \"keepalived\"}"; id = json_object_get(job, "job_id");`)
		}, RuleStratumSource, true, "login, keepalived"},
		{"web app with login and submit", "srv/app/views.py", func(testing.TB) []byte {
			return []byte(`urls = {"login": login_view, "submit": submit_view, "job": job_view}` + "\njob_id = request.args['job_id']\n")
		}, RuleStratumSource, false, ""},
		// User agents.
		{"XMRig agent with version", "opt/x", func(t testing.TB) []byte { return elfWithStrings(t, "XMRig/6.21.0") }, RuleELFMinerAgent, true, "XMRig/6.21.0"},
		{"cpuminer agent", "opt/x", func(t testing.TB) []byte { return elfWithStrings(t, "cpuminer/2.5.1") }, RuleELFMinerAgent, true, "cpuminer/2.5.1"},
		{"cpuminer-multi agent", "opt/x", func(t testing.TB) []byte { return elfWithStrings(t, "cpuminer-multi/1.3.7") }, RuleELFMinerAgent, true, "cpuminer-multi/1.3.7"},
		{"xmr-stak agent", "opt/x", func(t testing.TB) []byte { return elfWithStrings(t, "xmr-stak/2.10.8") }, RuleELFMinerAgent, true, "xmr-stak/2.10.8"},
		{"ccminer agent", "opt/x", func(t testing.TB) []byte { return elfWithStrings(t, "ccminer/2.3.1") }, RuleELFMinerAgent, true, "ccminer/2.3.1"},
		{"XMRig composed agent format", "opt/x", func(t testing.TB) []byte {
			return elfWithStrings(t, "XMRig", "6.26.0", "%s/%s (Linux ", "x86_64) libuv/%s", " gcc/%d.%d.%d")
		}, RuleELFMinerAgent, true, "libuv"},
		{"browser-like agent", "usr/bin/app", func(t testing.TB) []byte {
			return elfWithStrings(t, "Mozilla/5.0 (Linux; Android 10)", "%s/%s (Linux %s)", "curl/%s")
		}, RuleELFMinerAgent, false, ""},
		{"XMRig format piece without libuv", "usr/bin/app", func(t testing.TB) []byte { return elfWithStrings(t, "%s/%s (Linux ", "xmrig") },
			RuleELFMinerAgent, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, tt.path, 0o755, tt.body(t))
			h, got := hitOf(fr, tt.rule)
			if got != tt.want {
				t.Fatalf("rule %s fired = %v, want %v; hits %+v", tt.rule, got, tt.want, fr.hits)
			}
			if got && !strings.Contains(h.evidence, tt.ev) {
				t.Errorf("evidence %q lacks %q", h.evidence, tt.ev)
			}
		})
	}
}

// TestSystemELFsFireNoBinaryRule: the binary rules on this machine's own
// programs and libraries (real benign ELF files: coreutils, systemd, gcc,
// OpenSSL, ...). None may fire.
func TestSystemELFsFireNoBinaryRule(t *testing.T) {
	budget := int64(200 << 20)
	if testing.Short() {
		budget = 30 << 20
	}
	dirs := []string{"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"}
	n := 0
	for _, d := range dirs {
		_ = filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil || !de.Type().IsRegular() || budget <= 0 {
				return nil
			}
			info, err := de.Info()
			if err != nil || info.Size() > 16<<20 || info.Size() < 1024 {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil || !bytes.HasPrefix(b, []byte("\x7fELF")) {
				return nil
			}
			budget -= int64(len(b))
			n++
			fr := analyzeBytes(t, strings.TrimPrefix(p, "/"), info.Mode(), b)
			for _, h := range fr.hits {
				switch h.rule {
				case RuleELFStratum, RuleELFMinerAgent, RuleELFPacked, RuleELFAlgorithms, RuleStratumURL, RuleMoneroWallet:
					t.Errorf("%s: %s fired: %s", p, h.rule, h.evidence)
				}
			}
			// Programs get the hash signal's digests; non-executable shared
			// libraries do not (see TestDigestsSkipSharedLibraries).
			lib := false
			if es := parseELFHead(b[:min(len(b), headSize)]); es != nil {
				lib = es.sharedLib && info.Mode()&0o111 == 0
			}
			if want := 1; lib {
				want = 0
				if len(fr.digests) != want {
					t.Errorf("%s: shared library got digests %+v", p, fr.digests)
				}
			} else if len(fr.digests) != want || fr.digests[0].sha256 == "" {
				t.Errorf("%s: digests %+v, want one", p, fr.digests)
			}
			return nil
		})
	}
	if n == 0 {
		t.Skip("no ELF files on this machine")
	}
	t.Logf("%d ELF files checked", n)
}
