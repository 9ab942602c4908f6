package hierarchical

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
)

// The inert stand-in payloads: an XMRig-style command line (documentation
// IP, the tests' wallet) and /bin/ls with stratum methods and an XMRig user
// agent appended, installed as xmrig.
var standInScript = "#!/bin/sh\n./xmrig -o stratum+tcp://203.0.113.7:3333 -u " + testWallet + " --donate-level 1\n"

// ArchiveMember is a regular file of a test archive.
type ArchiveMember struct {
	Name string
	Body []byte
	Mode int64
}

// ArchiveTar returns a tar of the members (exported for the external
// tests).
func ArchiveTar(t testing.TB, ms ...ArchiveMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		if err := tw.WriteHeader(&tar.Header{Name: m.Name, Mode: m.Mode, Size: int64(len(m.Body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ArchiveZip returns a zip of the members, deflated.
func ArchiveZip(t testing.TB, ms ...ArchiveMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		h := &zip.FileHeader{Name: m.Name, Method: zip.Deflate}
		h.SetMode(fs.FileMode(m.Mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ArchiveGzip is gzip without a recorded name.
func ArchiveGzip(t testing.TB, b []byte) []byte { return gz(t, "", b) }

// ArchiveNested wraps payload in levels containers, alternating gzip and
// tar (member "lN.bin"), innermost first.
func ArchiveNested(t testing.TB, payload []byte, levels int) []byte {
	t.Helper()
	b := payload
	for i := 0; i < levels; i++ {
		if i%2 == 0 {
			b = gz(t, "", b)
		} else {
			b = ArchiveTar(t, ArchiveMember{Name: "l" + string(rune('0'+i)) + ".bin", Body: b, Mode: 0o644})
		}
	}
	return b
}

func xzOf(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdOf(t testing.TB, b []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

func noisy(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestArchiveFormats: a stand-in payload inside each format is found, with
// the path inside the archive in the evidence, and nothing is left
// unanalysed.
func TestArchiveFormats(t *testing.T) {
	miner := elfWithStrings(t, "mining.subscribe", "mining.authorize", "XMRig/%s")
	elfTar := func(t *testing.T) []byte {
		return ArchiveTar(t, ArchiveMember{"xmrig-6.21.0/README.md", []byte("XMRig\n"), 0o644}, ArchiveMember{"xmrig-6.21.0/xmrig", miner, 0o755})
	}
	script := []byte(standInScript)
	cut := bytes.Index(script, []byte("203.0.113"))
	scriptRules := []string{RuleStratumURL, RuleMinerOptions, RuleMoneroWallet}
	elfRules := []string{RuleELFStratum, RuleELFMinerAgent}
	tests := []struct {
		name  string
		path  string
		body  func(t *testing.T) []byte
		label string // evidence prefix
		rules []string
		miner bool // a miner-binary result naming the member
	}{
		{"gzip, two members splitting the URL", "opt/start.sh.gz", func(t *testing.T) []byte {
			return append(gz(t, "", script[:cut]), gz(t, "", script[cut:])...)
		}, "/opt/start.sh.gz (gzip): ", scriptRules, false},
		{"bzip2", "opt/start.sh.bz2", func(t *testing.T) []byte {
			b, err := os.ReadFile("testdata/archives/start.sh.bz2")
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "/opt/start.sh.bz2 (bzip2): ", scriptRules, false},
		{"xz", "opt/start.sh.xz", func(t *testing.T) []byte { return xzOf(t, script) }, "/opt/start.sh.xz (xz): ", scriptRules, false},
		{"zstd", "opt/start.sh.zst", func(t *testing.T) []byte { return zstdOf(t, script) }, "/opt/start.sh.zst (zstd): ", scriptRules, false},
		{"tar", "opt/x.tar", elfTar, "/opt/x.tar!xmrig-6.21.0/xmrig (tar): ", elfRules, true},
		{"zip", "opt/x.zip", func(t *testing.T) []byte {
			return ArchiveZip(t, ArchiveMember{"xmrig-6.21.0/xmrig", miner, 0o755})
		}, "/opt/x.zip!xmrig-6.21.0/xmrig (zip): ", elfRules, true},
		{"tgz", "opt/x.tgz", func(t *testing.T) []byte { return gz(t, "", elfTar(t)) }, "/opt/x.tgz!xmrig-6.21.0/xmrig (gzip+tar): ", elfRules, true},
		{"tar.xz with a script", "opt/x.tar.xz", func(t *testing.T) []byte {
			return xzOf(t, ArchiveTar(t, ArchiveMember{"xmrig-6.21.0/start.sh", script, 0o755}))
		}, "/opt/x.tar.xz!xmrig-6.21.0/start.sh (xz+tar): ", append([]string{RuleRunMiner}, scriptRules...), false},
		{"zip in tgz", "opt/x.tgz", func(t *testing.T) []byte {
			z := ArchiveZip(t, ArchiveMember{"xmrig-6.21.0/xmrig", miner, 0o755})
			return gz(t, "", ArchiveTar(t, ArchiveMember{"bundle/payload.zip", z, 0o644}))
		}, "/opt/x.tgz!bundle/payload.zip!xmrig-6.21.0/xmrig (gzip+tar+zip): ", elfRules, true},
		{"gzip name recorded", "var/tmp/blob.gz", func(t *testing.T) []byte { return gz(t, "xmrig", miner) }, "/var/tmp/blob.gz!xmrig (gzip): ", elfRules, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, tt.path, 0o644, tt.body(t))
			for _, r := range tt.rules {
				h, ok := hitOf(fr, r)
				if !ok || !strings.HasPrefix(h.evidence, tt.label) {
					t.Errorf("rule %s: %+v, want evidence starting %q; hits %+v", r, h, tt.label, fr.hits)
				}
			}
			if tt.miner != strings.HasPrefix(fr.minerBinary, strings.TrimSuffix(tt.label, ": ")) {
				t.Errorf("miner-binary = %q", fr.minerBinary)
			}
			for _, h := range fr.hits {
				if ruleByID[h.rule].Category == detectors.CategoryNotScanned {
					t.Errorf("not-scanned finding on a well-formed archive: %+v", h)
				}
			}
			if len(fr.digests) == 0 || fr.digests[0].what == "" {
				t.Errorf("digests %+v, want the member's", fr.digests)
			}
		})
	}
}

// TestArchiveBenign: ordinary archives give no finding at all.
func TestArchiveBenign(t *testing.T) {
	class := append([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x3d}, []byte("\x00\x10java/lang/Object\x00\x04main\x00\x16([Ljava/lang/String;)V")...)
	docs := ArchiveTar(t,
		ArchiveMember{"app-1.2/README.md", []byte("# app\n\nBuild with make; see docs/ for the API.\n"), 0o644},
		ArchiveMember{"app-1.2/LICENSE", []byte(strings.Repeat("Permission is hereby granted, free of charge.\n", 40)), 0o644},
		ArchiveMember{"app-1.2/docs/usage.txt", []byte("app --port 8080 --config /etc/app.yaml\n"), 0o644})
	tests := []struct {
		name, path string
		body       []byte
	}{
		{"tar.gz of text docs", "opt/app-1.2.tar.gz", gz(t, "", docs)},
		{"jar-like zip of classes", "opt/app/lib/app.jar", ArchiveZip(t,
			ArchiveMember{"META-INF/MANIFEST.MF", []byte("Manifest-Version: 1.0\nMain-Class: org.example.Main\n"), 0o644},
			ArchiveMember{"org/example/Main.class", class, 0o644},
			ArchiveMember{"org/example/Util.class", class, 0o644})},
		{"zstd of random data", "var/cache/app/blob.zst", zstdOf(t, noisy(300<<10))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, tt.path, 0o644, tt.body)
			if len(fr.hits) > 0 || fr.minerBinary != "" {
				t.Errorf("findings on a benign archive: %+v %q", fr.hits, fr.minerBinary)
			}
		})
	}
}

// TestArchiveBounds: every bound that stops the recursion, and damage, is
// an archive-not-scanned finding naming the archive and the bound; what
// could be read is still analysed.
func TestArchiveBounds(t *testing.T) {
	script := []byte(standInScript)
	truncated := func(t *testing.T) []byte {
		b := gz(t, "", ArchiveTar(t, ArchiveMember{"a/start.sh", script, 0o755}, ArchiveMember{"a/data.bin", noisy(256 << 10), 0o644}))
		return b[:len(b)*3/4]
	}
	many := make([]ArchiveMember, 12)
	for i := range many {
		many[i] = ArchiveMember{"f" + string(rune('a'+i)), []byte("x\n"), 0o644}
	}
	badCRC := func(t *testing.T) []byte {
		z := ArchiveZip(t, ArchiveMember{"start.sh", script, 0o755})
		i := bytes.Index(z, []byte("PK\x01\x02")) // the CRC is at +16 of the central header
		z[i+16] ^= 0xff
		return z
	}
	tests := []struct {
		name    string
		path    string
		body    func(t *testing.T) []byte
		lim     unpackLimits
		want    string // in the archive-not-scanned evidence
		payload bool   // the stratum URL is still found
	}{
		{"10 nested archives", "opt/deep.gz", func(t *testing.T) []byte { return ArchiveNested(t, script, 10) }, unpackLimits{},
			"nested 4 archives deep, not unpacked (depth limit 4)", false},
		{"truncated tar.gz", "opt/x.tgz", truncated, unpackLimits{}, "gzip stream corrupt or truncated", true},
		{"member limit", "opt/m.tar", func(t *testing.T) []byte {
			return ArchiveTar(t, append([]ArchiveMember{{"start.sh", script, 0o755}}, many...)...)
		}, unpackLimits{members: 10}, "more than 10 members", true},
		{"zip over the buffer bound", "opt/big.zip", func(t *testing.T) []byte {
			return ArchiveZip(t, ArchiveMember{"start.sh", script, 0o755}, ArchiveMember{"noise", noisy(64 << 10), 0o644})
		}, unpackLimits{zipBuf: 16 << 10}, "in-memory zip bound", false},
		{"zip member with a bad CRC", "opt/crc.zip", badCRC, unpackLimits{}, "zip stream corrupt or truncated", true},
		{"inflate budget", "opt/noise.tgz", func(t *testing.T) []byte {
			return gz(t, "", ArchiveTar(t, ArchiveMember{"start.sh", script, 0o755}, ArchiveMember{"noise", noisy(2 << 20), 0o644},
				ArchiveMember{"later.sh", script, 0o755}))
		}, unpackLimits{work: 1 << 20}, "inflate budget of 1048576 bytes outside zero runs per file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.body(t)
			e := &layers.Entry{Path: tt.path, Type: layers.TypeFile, Mode: 0o644, Size: int64(len(b))}
			fr, err := analyzeFile(e, bytes.NewReader(b), fileOpts{maxScriptBytes: DefaultMaxScriptBytes, unpack: tt.lim})
			if err != nil {
				t.Fatal(err)
			}
			ok := false
			for _, h := range fr.hits {
				ok = ok || h.rule == RuleArchiveNotScanned && strings.Contains(h.evidence, tt.want) && strings.HasPrefix(h.evidence, "/"+tt.path)
			}
			if !ok {
				t.Errorf("no archive-not-scanned finding with %q; hits %+v", tt.want, fr.hits)
			}
			if _, found := hitOf(fr, RuleStratumURL); found != tt.payload {
				t.Errorf("payload found = %v, want %v; hits %+v", found, tt.payload, fr.hits)
			}
		})
	}
}

// TestArchiveZeroRuns: 200 MiB of zeros in a gzip member before the payload
// cost no work: the payload is found under a work budget of 8 MiB, by
// bytes counted (not wall time).
func TestArchiveZeroRuns(t *testing.T) {
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	const zeros = 200 << 20
	if err := tw.WriteHeader(&tar.Header{Name: "disk.img", Mode: 0o644, Size: zeros, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	mib := gz(t, "", make([]byte, 1<<20))
	body := gz(t, "", hdr.Bytes())
	for i := 0; i < zeros>>20; i++ {
		body = append(body, mib...)
	}
	body = append(body, gz(t, "", ArchiveTar(t, ArchiveMember{"start.sh", []byte(standInScript), 0o755}))...)
	if len(body) > 1<<20 {
		t.Fatalf("fixture is %d bytes", len(body))
	}
	st := &unpackState{lim: fileOpts{unpack: unpackLimits{work: 8 << 20}}.limits(), top: "opt/disk.tgz", size: int64(len(body))}
	src := source{path: "opt/disk.tgz", shown: "opt/disk.tgz", mode: 0o644, size: int64(len(body)), unpack: st}
	fr, err := analyzeStream(src, bytes.NewReader(body), fileOpts{maxScriptBytes: DefaultMaxScriptBytes, unpack: st.lim})
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := hitOf(fr, RuleStratumURL); !ok || !strings.HasPrefix(h.evidence, "/opt/disk.tgz!start.sh (gzip+tar): ") {
		t.Errorf("payload after the zeros not found: %+v", fr.hits)
	}
	if _, ok := hitOf(fr, RuleArchiveNotScanned); ok {
		t.Errorf("zero run counted against the budget: %+v", fr.hits)
	}
	if st.total < zeros || st.work > 64<<10 {
		t.Errorf("inflated %d bytes, %d counted as work; want >= %d and <= 64 KiB", st.total, st.work, zeros)
	}
}

// TestZeroRunInELF: the matchers skip a zero run inside content but still
// complete a match that ends where the run starts at a chunk edge, and see
// the strings after it.
func TestZeroRunInELF(t *testing.T) {
	head := elfWithStrings(t)
	const url = "stratum+tcp://203.0.113.7:3333"
	b := append([]byte{}, head...)
	// The first window is chunkSize+overlap bytes: the URL ends exactly there.
	b = append(b, make([]byte, chunkSize+overlap-len(b)-len(url))...)
	b = append(b, url...)
	b = append(b, make([]byte, 8<<20)...)
	b = append(b, "\x00mining.subscribe\x00mining.authorize\x00"...)
	fr := analyzeBytes(t, "opt/agent", 0o755, b)
	if h, ok := hitOf(fr, RuleStratumURL); !ok || !strings.HasPrefix(h.evidence, url+" [") {
		t.Errorf("URL at the zero run's edge: %+v", fr.hits)
	}
	if _, ok := hitOf(fr, RuleELFStratum); !ok {
		t.Errorf("strings after the zero run: %+v", fr.hits)
	}
}

// TestDeepAnalysisBound: digests and ELF histograms stop at the deep bound
// with an informational finding; the literal matchers read on.
func TestDeepAnalysisBound(t *testing.T) {
	b := append(elfWithStrings(t), noisy(3<<20)...)
	b = append(b, "\x00mining.subscribe\x00mining.authorize\x00"...)
	e := &layers.Entry{Path: "opt/agent", Type: layers.TypeFile, Mode: 0o755, Size: int64(len(b))}
	fr, err := analyzeFile(e, bytes.NewReader(b), fileOpts{maxScriptBytes: DefaultMaxScriptBytes, unpack: unpackLimits{deep: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := hitOf(fr, RuleAnalysisBounded); !ok || !strings.Contains(h.evidence, "first 1048576 of") {
		t.Errorf("no analysis-bounded finding: %+v", fr.hits)
	}
	if _, ok := hitOf(fr, RuleELFStratum); !ok {
		t.Errorf("literal matchers stopped at the deep bound: %+v", fr.hits)
	}
	whole := analyzeBytes(t, "opt/agent", 0o755, b)
	if _, ok := hitOf(whole, RuleAnalysisBounded); ok || reflect.DeepEqual(whole.digests, fr.digests) {
		t.Errorf("default bound: hits %+v; digests must differ from the 1 MiB prefix's", whole.hits)
	}
}

// TestArchiveResultEncoding: results of archives survive the cache.
func TestArchiveResultEncoding(t *testing.T) {
	miner := elfWithStrings(t, "mining.subscribe", "mining.authorize", "XMRig/%s")
	b := gz(t, "", ArchiveTar(t, ArchiveMember{"xmrig-6.21.0/xmrig", miner, 0o755}, ArchiveMember{"l.gz", ArchiveNested(t, []byte("x"), 6), 0o644}))
	fr := analyzeBytes(t, "opt/x.tgz", 0o644, b)
	if fr.minerBinary == "" || len(fr.digests) == 0 {
		t.Fatalf("fixture: %+v", fr)
	}
	if _, ok := hitOf(fr, RuleArchiveNotScanned); !ok {
		t.Fatalf("fixture lacks archive-not-scanned: %+v", fr.hits)
	}
	fr.kind = 0
	got, err := decodeFileResult(fr.encode())
	if err != nil || !reflect.DeepEqual(got, fr) {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, fr)
	}
}
