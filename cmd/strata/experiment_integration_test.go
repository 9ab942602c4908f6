package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/testenv"
)

// hashDir maps every file under dir to the SHA-256 of its bytes.
func hashDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		out[p] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExperimentSliceKeepsReference runs the slice `strata experiment exp3
// --types pad-binary --cases 111 --samples 1` for real (BuildKit builds,
// every detector) from the repository root and checks that the committed
// results/ are byte-identical afterwards, that the run's records hold only
// the slice, and that its report says it is a slice.
func TestExperimentSliceKeepsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: debootstrap + buildkitd + BuildKit builds (run without -short; `make test` does)")
	}
	testenv.SBOMHelper(t) // the inventory baseline's helper, built from this tree
	cache := os.Getenv("STRATA_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	t.Chdir(filepath.Join("..", ".."))
	before := hashDir(t, "results")
	runs := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"experiment", "exp3", "--types", "pad-binary", "--cases", "111", "--samples", "1",
		"--runs", runs, "--state-dir", cache, "--serve-addr", "127.0.0.1:18475"}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("strata %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	after := hashDir(t, "results")
	if !maps.Equal(before, after) {
		for p := range after {
			if before[p] != after[p] {
				t.Errorf("%s changed or appeared", p)
			}
		}
		for p := range before {
			if _, ok := after[p]; !ok {
				t.Errorf("%s disappeared", p)
			}
		}
	}
	dir, err := experiments.LatestRun(runs, "exp3")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := experiments.ReadRecords(filepath.Join(dir, experiments.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Mutation != "pad-binary" || (r.Label == experiments.LabelMalicious && r.Case != "111") || r.Seed != 101 {
			t.Errorf("record outside the slice: %s %s seed %d", r.Image, r.Mutation, r.Seed)
		}
	}
	if len(recs) == 0 {
		t.Error("the slice recorded nothing")
	}
	md, err := os.ReadFile(filepath.Join(dir, experiments.ReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(md), "\n"); !strings.Contains(first, "slice --types pad-binary --cases 111 --samples 1") {
		t.Errorf("report title %q does not say it is a slice", first)
	}
	man, err := experiments.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(man.Slice.Types, []string{"pad-binary"}) || len(man.Inputs.BasePackages) == 0 || man.Inputs.BaseDigest == "" {
		t.Errorf("manifest lacks the slice or the base's packages: %+v", man)
	}
	// compare on a slice looks at what the slice ran only.
	out.Reset()
	if err := run(context.Background(), []string{"compare", dir}, &out, &errb); err != nil && exitCode(err) != 1 {
		t.Fatalf("compare: %v", err)
	}
	if !strings.Contains(out.String(), "exp3 (slice --types pad-binary --cases 111 --samples 1)") {
		t.Errorf("compare verdict does not name the slice:\n%s", out.String())
	}
}
