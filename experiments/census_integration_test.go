package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-sec/strata/corpus/census"
)

// CensusCISlice is the size of the census slice `make test` runs.
const CensusCISlice = 200

// TestCensusSlice is the census's CI-sized slice (issue #18): the first
// CensusCISlice images of the dev split of the Debian, Python and npm lists
// (the --limit prefix), downloaded through apt and npm, assembled and
// scanned by the hierarchical detector for real. It fails when the
// detector flags any of them or is incomplete on one, so a rule change
// that floods false positives is caught before it lands; and it fails
// when the detector misses one of census.Canaries, the positive controls
// assembled on the same bases, so a slice that sees nothing cannot pass
// for a clean one. The ordinary
// stratum is left to `make census`: it needs BuildKit builds.
func TestCensusSlice(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: apt-get download, npm install, real scans (run without -short; `make test` does)")
	}
	cache := os.Getenv("STRATA_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	var log bytes.Buffer
	// The default server address: it is part of the web-app image's
	// inputs, and a STRATA_TEST_CACHE shared with real runs keeps that
	// image instead of replacing it.
	cfg := Config{CacheDir: cache, RunsDir: t.TempDir(), Seed: 1, Log: &log,
		Slice: Slice{Split: census.Dev, Limit: CensusCISlice, Ecosystems: []string{census.Debian, census.Python, census.NPM}, Detectors: []string{"hierarchical"}}}
	t0 := time.Now()
	res, err := Run(context.Background(), Census, cfg)
	if err != nil {
		t.Fatalf("census slice: %v\n%s", err, log.String())
	}
	t.Logf("census slice of %d images: %s", CensusCISlice, time.Since(t0).Round(time.Second))
	recs, err := ReadRecords(filepath.Join(res.Dir, RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]bool{}
	for _, r := range recs {
		if r.Detector != "hierarchical" {
			continue
		}
		images[r.Image] = true
		if r.Split != census.Dev {
			t.Errorf("%s: split %q: the CI slice is dev only", r.Image, r.Split)
		}
		switch {
		case r.Error != "" || r.Decision == "incomplete":
			t.Errorf("%s (%s): incomplete: %s %s", r.Image, r.Family, r.Error, findingRules(r))
		case r.Flagged():
			t.Errorf("%s (%s): flagged, score %.1f: %s", r.Image, r.Family, r.Score, findingRules(r))
		}
	}
	if len(images) != CensusCISlice {
		t.Errorf("scanned %d images, want %d", len(images), CensusCISlice)
	}
	// The positive controls, assembled on the same runtime bases: a slice
	// that flags nothing must still flag these.
	canaries, err := ReadRecords(filepath.Join(res.Dir, CensusCanaryFile))
	if err != nil {
		t.Fatalf("canaries: %v", err)
	}
	flagged := map[string]bool{}
	for _, r := range canaries {
		if r.Detector == "hierarchical" {
			flagged[r.Image] = r.Flagged()
			if !r.Flagged() {
				t.Errorf("canary %s (%s): %s, score %.1f: the census's assembly and scan path did not see its miner: %s", r.Image, r.Family, r.Decision, r.Score, findingRules(r))
			}
		}
	}
	for _, c := range census.Canaries {
		if _, ok := flagged[census.CanaryImageName(c)]; !ok {
			t.Errorf("canary %s was not scanned", census.CanaryImageName(c))
		}
	}
}

func findingRules(r Record) string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Rule+"@"+f.Path)
	}
	return strings.Join(out, ", ")
}
