package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-sec/strata/corpus/drupal"
)

// TestExperimentsEndToEnd runs experiment 1 and a slice of experiment 2 for
// real, sharing one cache: debootstrap base, offline packages, the web-app
// image, BuildKit builds of the 8 cases and of every mutation type on two
// cases, every detector (real ClamAV and YARA), records, reports. It is the
// slowest test of the suite (a few minutes) and the one that shows the
// product works.
func TestExperimentsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: debootstrap + buildkitd + BuildKit builds (run without -short; `make test` does)")
	}
	cache := os.Getenv("STRATA_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	t.Run("exp1", func(t *testing.T) { testExp1(t, cache) })
	t.Run("exp2-subset", func(t *testing.T) { testExp2Subset(t, cache) })
}

func testExp1(t *testing.T, cache string) {
	results := t.TempDir()
	var log bytes.Buffer
	// A fixed port: the server URL is part of every build input, so a
	// random one would make the resume check below rebuild everything.
	cfg := Config{CacheDir: cache, ResultsDir: results, Seed: 1, ServeAddr: "127.0.0.1:18474", Log: &log}
	if err := RunExp1(context.Background(), cfg); err != nil {
		t.Fatalf("RunExp1: %v\n%s", err, log.String())
	}
	recs, err := ReadRecords(filepath.Join(results, Exp1, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	byCase := map[string]map[string]Record{}
	for _, r := range recs {
		if byCase[r.Case] == nil {
			byCase[r.Case] = map[string]Record{}
		}
		byCase[r.Case][r.Detector] = r
	}
	for _, c := range drupal.Cases() {
		h, ok := byCase[c.Bits()]["hierarchical"]
		if !ok {
			t.Errorf("case %s: no hierarchical record", c.Bits())
			continue
		}
		if h.Flagged() != c.Malicious() {
			t.Errorf("case %s: hierarchical flagged=%v, want %v (score %.1f)", c.Bits(), h.Flagged(), c.Malicious(), h.Score)
		}
		// Base + 7 benign layers, then the present malicious layers.
		var want []int
		for i := 0; i < len(c.MaliciousLayers()); i++ {
			want = append(want, 8+i)
		}
		if want == nil {
			want = []int{}
		}
		if !reflect.DeepEqual(h.MaliciousLayers, want) {
			t.Errorf("case %s: ground truth layers %v, want %v", c.Bits(), h.MaliciousLayers, want)
		}
		if c.Malicious() && !reflect.DeepEqual(h.BlamedLayers, want) {
			t.Errorf("case %s: blamed %v, want %v", c.Bits(), h.BlamedLayers, want)
		}
		for _, f := range h.Findings {
			if f.Layer >= 0 && (f.DiffID == "" || f.CreatedBy == "") {
				t.Errorf("case %s: finding %s on layer %d lacks diffID or created_by", c.Bits(), f.Rule, f.Layer)
			}
		}
		if want := 8 + len(c.MaliciousLayers()); len(h.Layers) != want {
			t.Errorf("case %s: %d layers recorded, want %d (base + 7 benign + malicious)", c.Bits(), len(h.Layers), want)
		}
	}
	// Resuming scans nothing again and builds nothing again.
	log.Reset()
	if err := RunExp1(context.Background(), cfg); err != nil {
		t.Fatalf("second RunExp1: %v", err)
	}
	if n := strings.Count(log.String(), "already recorded"); n != len(recs) {
		t.Errorf("resume skipped %d scans, want %d:\n%s", n, len(recs), log.String())
	}
	if strings.Contains(log.String(), "] built case") {
		t.Errorf("resume rebuilt images:\n%s", log.String())
	}
	rep, err := Exp1ReportFile(filepath.Join(results, Exp1, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteDir(filepath.Join(results, Exp1)); err != nil {
		t.Fatal(err)
	}
}

// testExp2Subset builds every mutation type on the benign case and the full
// sample, one seed each, and checks labels, ground truth through the
// mutations, and that the hierarchical detector flags every malicious
// variant and no benign one.
func testExp2Subset(t *testing.T, cache string) {
	results := t.TempDir()
	var log bytes.Buffer
	cfg := Config{CacheDir: cache, ResultsDir: results, Seed: 1, ServeAddr: "127.0.0.1:18474", Log: &log,
		Cases: []string{"000", "111"}, Samples: 1}
	if err := RunExp2(context.Background(), cfg); err != nil {
		t.Fatalf("RunExp2: %v\n%s", err, log.String())
	}
	recs, err := ReadRecords(filepath.Join(results, Exp2, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, r := range recs {
		types[r.Mutation] = true
		if r.Detector != "hierarchical" {
			continue
		}
		if want := r.Case != "000"; r.Malicious() != want {
			t.Errorf("%s: label %s", r.Image, r.Label)
		}
		if r.Flagged() != r.Malicious() {
			t.Errorf("%s: hierarchical %s (score %.1f), label %s", r.Image, r.Decision, r.Score, r.Label)
		}
		if r.Case == "111" && len(r.MaliciousLayers) == 0 {
			t.Errorf("%s: no malicious layers in ground truth", r.Image)
		}
	}
	if len(types) != 10 {
		t.Errorf("records cover %d mutation types, want 10: %v", len(types), types)
	}
	if n := len(recs); n != 2*10*4 {
		t.Errorf("%d records, want %d (2 cases x 10 types x 1 seed x 4 detectors)", n, 2*10*4)
	}
	rep, err := Exp2ReportFile(filepath.Join(results, Exp2, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteDir(filepath.Join(results, Exp2)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "detection_by_type.png", "detection_by_type.svg"} {
		if _, err := os.Stat(filepath.Join(results, Exp2, f)); err != nil {
			t.Errorf("report output: %v", err)
		}
	}
}
