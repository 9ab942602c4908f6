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

// TestExp1EndToEnd runs experiment 1 for real: debootstrap base, offline
// packages, 8 BuildKit builds, every detector, records, report. It is the
// slowest test of the suite (a few minutes) and the one that shows the
// product works.
func TestExp1EndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: debootstrap + buildkitd + 8 builds (run without -short; `make test` does)")
	}
	cache := os.Getenv("STRATA_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
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
