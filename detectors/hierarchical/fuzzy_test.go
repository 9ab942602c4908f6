package hierarchical_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/glaslos/tlsh"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// learnFrom learns the known samples of the paper-like image's malicious
// layers (the first sighting).
func learnFrom(t *testing.T) ([]hierarchical.KnownSample, string) {
	t.Helper()
	img, bad := sample(t, true, true, true)
	ks, err := hierarchical.LearnKnownSamples(context.Background(), img, bad)
	if err != nil {
		t.Fatal(err)
	}
	minerELF := elfWith(t, "mining.subscribe", "mining.authorize", "mining.submit", "cryptonight", "cpuminer-multi/0.1",
		"Usage: minerd [OPTIONS]", "-a, --algo=ALGO", "-o, --url=URL")
	return ks, minerELF
}

func TestLearnKnownSamples(t *testing.T) {
	ks, _ := learnFrom(t)
	names := map[string]hierarchical.KnownSample{}
	for _, k := range ks {
		names[k.Name] = k
		if k.SHA256 == "" || !strings.HasPrefix(k.Source, "layer ") {
			t.Errorf("sample %+v lacks sha256 or source", k)
		}
	}
	// The ELF (added, then chmod-ed: same content, one sample) and the
	// deleted dropper script; the clone's .git/config is neither ELF nor
	// script, and nothing under .git is learned.
	if k, ok := names["/usr/bin/minerd"]; !ok || len(k.TLSH) != 70 {
		t.Errorf("minerd not learned with a TLSH: %+v", ks)
	}
	if _, ok := names["/tmp/p"]; !ok {
		t.Errorf("hidden dropper script not learned: %+v", ks)
	}
	for n := range names {
		if strings.Contains(n, ".git/") || strings.HasSuffix(n, ".md") || strings.HasSuffix(n, ".c") {
			t.Errorf("learned %s", n)
		}
	}
	if len(ks) != len(names) {
		t.Errorf("duplicates in %+v", ks)
	}
	img, _ := sample(t, false, false, false)
	if _, err := hierarchical.LearnKnownSamples(context.Background(), img, []int{99}); err == nil {
		t.Error("layer out of range accepted")
	}
}

func TestKnownSamplesFile(t *testing.T) {
	ks, _ := learnFrom(t)
	var buf bytes.Buffer
	if err := hierarchical.WriteKnownSamples(&buf, ks); err != nil {
		t.Fatal(err)
	}
	text := "# learned from exp1 case-111\n\n" + buf.String()
	got, err := hierarchical.ReadKnownSamples(strings.NewReader(text))
	if err != nil || !reflect.DeepEqual(got, ks) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, got, ks)
	}
	tlshOf := ks[0].TLSH
	for _, bad := range []string{
		`{"name": "x"}`,                                // neither hash
		`{"name": "x", "tlsh": "zz"}`,                  // not hex
		`{"name": "x", "tlsh": "` + tlshOf[:68] + `"}`, // short
		`{"name": "x", "sha256": "abc"}`,               // short
		`{"name": "x", "sha256": "` + strings.Repeat("a", 64) + `", "extra": 1}`,
		`not json`,
	} {
		if _, err := hierarchical.ReadKnownSamples(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	// "T1" (reference TLSH 4.x) prefixed digests are accepted.
	if _, err := hierarchical.ReadKnownSamples(strings.NewReader(`{"name": "x", "tlsh": "T1` + strings.ToUpper(tlshOf) + `"}`)); err != nil {
		t.Errorf("T1 digest: %v", err)
	}
	// A bad sample given in code makes Scan fail, loudly.
	img, _ := sample(t, false, false, false)
	_, err = hierarchical.New(hierarchical.WithKnownSamples([]hierarchical.KnownSample{{Name: "x", TLSH: "nope"}})).Scan(context.Background(), img)
	if err == nil {
		t.Error("invalid known sample accepted by Scan")
	}
}

func padRandom(b string, n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 9))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.IntN(256))
	}
	return b + string(p)
}

func flipBytes(b string, n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 10))
	x := []byte(b)
	for range n {
		x[r.IntN(len(x))] ^= byte(1 + r.IntN(255))
	}
	return string(x)
}

func gzipped(t *testing.T, b string) string {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(b))
	w.Close()
	return buf.String()
}

// TestFuzzyHashMatch: variants of a learned sample match; this machine's
// unrelated programs do not; without known samples or with the hash signal
// off nothing matches. (The stand-in ELF is /bin/ls with miner strings
// appended, so /bin/ls itself is at distance 3 from it: TLSH sees the same
// program. TestFuzzyDistancesOnThisMachine measures real distinct programs.)
func TestFuzzyHashMatch(t *testing.T) {
	ks, minerELF := learnFrom(t)
	tests := []struct {
		name  string
		file  dt.File
		opts  []hierarchical.Option
		want  bool
		exact bool
	}{
		{"same binary, renamed and moved", dt.Exec("usr/lib/.x/kthreadd", minerELF), nil, true, true},
		{"padded with 2 KiB of random bytes", dt.Exec("usr/local/bin/kworker", padRandom(minerELF, 2048, 1)), nil, true, false},
		{"16 bytes changed", dt.Exec("opt/app/agent", flipBytes(minerELF, 16, 2)), nil, true, false},
		{"inside a gzip file", dt.Text("var/tmp/.cache/blob.gz", gzipped(t, minerELF)), nil, true, true},
		{"this machine's /usr/bin/cp", dt.Exec("usr/bin/cp", machineFile(t, "/usr/bin/cp")), nil, false, false},
		{"this machine's libcrypto", dt.Text("usr/lib/x86_64-linux-gnu/libcrypto.so.3", machineFile(t, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3")), nil, false, false},
		{"Debian cron script", dt.Exec("etc/cron.daily/logrotate", testdata(t, "debian/cron.daily-logrotate")), nil, false, false},
		{"hash signal off", dt.Exec("usr/lib/.x/kthreadd", minerELF), []hierarchical.Option{hierarchical.WithSignals("network", "behavior")}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := dt.Image(t, v1.Config{}, dt.Step{CreatedBy: "COPY x / # buildkit", Files: []dt.File{tt.file}})
			v := scan(t, img, append([]hierarchical.Option{hierarchical.WithKnownSamples(ks)}, tt.opts...)...)
			got := findings(v, hierarchical.RuleFuzzyHash)
			if (len(got) > 0) != tt.want {
				t.Fatalf("fuzzy-hash-match fired = %v, want %v: %+v", len(got) > 0, tt.want, got)
			}
			if tt.want {
				ev := got[0].Evidence
				if strings.Contains(ev, "TLSH distance") == tt.exact || !strings.Contains(ev, "/usr/bin/minerd") || got[0].Layer != 0 || got[0].Weight != 6 {
					t.Errorf("finding %+v (exact want %v)", got[0], tt.exact)
				}
			}
			if !tt.want && v.Decision == detectors.Malicious {
				t.Errorf("negative judged malicious: %+v", v.Findings)
			}
			// Without known samples the rule never fires.
			if n := findings(scan(t, img), hierarchical.RuleFuzzyHash); len(n) > 0 {
				t.Errorf("fired without known samples: %+v", n)
			}
		})
	}
}

// TestFuzzyDistancesOnThisMachine: the cut-off against real files. Distinct
// programs of this machine (ls against other coreutils and system tools) are
// far above it; the same program with random padding or a few changed bytes
// is under it.
func TestFuzzyDistancesOnThisMachine(t *testing.T) {
	digest := func(b []byte) *tlsh.TLSH {
		h, err := tlsh.HashBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	ls := []byte(machineFile(t, "/bin/ls"))
	ref := digest(ls)
	minDist := 1 << 30
	for _, p := range []string{"/usr/bin/cp", "/usr/bin/tar", "/usr/bin/gzip", "/usr/bin/find", "/usr/bin/ssh", "/usr/bin/git", "/usr/bin/sed", "/usr/bin/bash", "/usr/bin/perl", "/usr/sbin/ldconfig"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		d := ref.Diff(digest(b))
		minDist = min(minDist, d)
		if d <= hierarchical.FuzzyHashMaxDistance+20 {
			t.Errorf("/bin/ls vs %s: distance %d, within 20 of the cut-off %d", p, d, hierarchical.FuzzyHashMaxDistance)
		}
	}
	t.Logf("closest unrelated program to /bin/ls: distance %d (cut-off %d)", minDist, hierarchical.FuzzyHashMaxDistance)
	for _, v := range []struct {
		name string
		b    string
	}{
		{"1 KiB random padding", padRandom(string(ls), 1024, 3)},
		{"4 KiB random padding", padRandom(string(ls), 4096, 4)},
		{"8 bytes changed", flipBytes(string(ls), 8, 5)},
		{"64 bytes changed", flipBytes(string(ls), 64, 6)},
	} {
		if d := ref.Diff(digest([]byte(v.b))); d > hierarchical.FuzzyHashMaxDistance {
			t.Errorf("/bin/ls %s: distance %d above the cut-off", v.name, d)
		}
	}
}

// TestKnownSamplesNotInCacheKey: one cache serves detectors with different
// known-sample sets; each verdict equals its cold scan.
func TestKnownSamplesNotInCacheKey(t *testing.T) {
	ctx := context.Background()
	ks, minerELF := learnFrom(t)
	img := dt.Image(t, v1.Config{Cmd: []string{"/usr/lib/.x/kthreadd"}},
		dt.Step{CreatedBy: "COPY x / # buildkit", Files: []dt.File{dt.Exec("usr/lib/.x/kthreadd", padRandom(minerELF, 512, 7))}})
	c := layercache.New()
	for _, set := range [][]hierarchical.KnownSample{nil, ks, ks[:1], nil} {
		cold, err := hierarchical.New(hierarchical.WithLayerCache(nil), hierarchical.WithKnownSamples(set)).Scan(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		warm, err := hierarchical.New(hierarchical.WithLayerCache(c), hierarchical.WithKnownSamples(set)).Scan(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cold, warm) {
			t.Errorf("%d samples: cached verdict differs from cold", len(set))
		}
		if fired := len(findings(warm, hierarchical.RuleFuzzyHash)) > 0; fired != (len(set) > 0 && set[0].Name == "/usr/bin/minerd" || len(set) > 1) {
			t.Errorf("%d samples: fuzzy-hash-match fired = %v", len(set), fired)
		}
	}
	if st := c.Stats(); st.Hits < 3 {
		t.Errorf("cache not shared: %+v", st)
	}
}
