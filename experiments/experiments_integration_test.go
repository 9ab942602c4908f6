package experiments

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/internal/testenv"
	"github.com/strata-sec/strata/mutations"
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
	testenv.SBOMHelper(t) // the inventory baseline's helper, built from this tree
	cache := os.Getenv("STRATA_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	t.Run("exp1", func(t *testing.T) { testExp1(t, cache) })
	t.Run("exp2-subset", func(t *testing.T) { testExp2Subset(t, cache) })
	t.Run("exp3-subset", func(t *testing.T) { testExp3Subset(t, cache) })
}

func testExp1(t *testing.T, cache string) {
	results := t.TempDir()
	var log bytes.Buffer
	// A fixed port: the server URL is part of every build input, so a
	// random one would make the resume check below rebuild everything.
	cfg := Config{CacheDir: cache, ResultsDir: results, Seed: 1, ServeAddr: "127.0.0.1:18474", Log: &log, Verbose: true}
	if _, err := Run(context.Background(), Exp1, cfg); err != nil {
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
	if _, err := Run(context.Background(), Exp1, cfg); err != nil {
		t.Fatalf("second RunExp1: %v", err)
	}
	if n := strings.Count(log.String(), "already recorded"); n != len(recs) {
		t.Errorf("resume skipped %d scans, want %d:\n%s", n, len(recs), log.String())
	}
	if strings.Contains(log.String(), ": built exp1/case-") {
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
	var log bytes.Buffer
	cfg := Config{CacheDir: cache, RunsDir: t.TempDir(), Seed: 1, ServeAddr: "127.0.0.1:18474", Log: &log,
		Slice: Slice{Cases: []string{"000", "111"}, Samples: 1}}
	res, err := Run(context.Background(), Exp2, cfg)
	if err != nil {
		t.Fatalf("Run exp2: %v\n%s", err, log.String())
	}
	recs, err := ReadRecords(filepath.Join(res.Dir, RecordsFile))
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
	perDetector := map[string]int{}
	for _, r := range recs {
		perDetector[r.Detector]++
	}
	wantDetectors := DefaultDetectorNames()
	if got := slices.Sorted(maps.Keys(perDetector)); !slices.Equal(got, wantDetectors) {
		t.Errorf("records of detectors %v, want the catalog's defaults %v", got, wantDetectors)
	}
	for _, d := range wantDetectors {
		if perDetector[d] != 2*10 {
			t.Errorf("%s: %d records, want %d (2 cases x 10 types x 1 seed)", d, perDetector[d], 2*10)
		}
	}
	if n := len(recs); n != 2*10*len(wantDetectors) {
		t.Errorf("%d records, want %d (2 cases x 10 types x 1 seed x %d detectors): %v", n, 2*10*len(wantDetectors), len(wantDetectors), perDetector)
	}
	if !strings.Contains(res.Report.Title, "slice --cases 000,111 --samples 1") {
		t.Errorf("report title %q does not say it is a slice", res.Report.Title)
	}
	for _, f := range []string{"report.md", "detection_by_type.png", "detection_by_type.svg", ManifestFile} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Errorf("report output: %v", err)
		}
	}
}

// testExp3Subset runs experiment 3 on the benign case and the full sample
// (one seed) with one light benign corpus image as control: every payload
// type built or skipped as not applicable, every type applied to the
// benign image, the ablation file, and the report with its figures.
func testExp3Subset(t *testing.T, cache string) {
	var log bytes.Buffer
	cfg := Config{CacheDir: cache, RunsDir: t.TempDir(), Seed: 1, ServeAddr: "127.0.0.1:18474", Log: &log,
		Slice: Slice{Cases: []string{"000", "111"}, Samples: 1, Benign: []string{"cloudinit-base64"}}}
	res, err := Run(context.Background(), Exp3, cfg)
	if err != nil {
		t.Fatalf("Run exp3: %v\n%s", err, log.String())
	}
	dir := res.Dir
	recs, err := ReadRecords(filepath.Join(dir, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	nas, err := ReadNotApplicable(filepath.Join(dir, NotApplicableFile))
	if err != nil {
		t.Fatal(err)
	}
	payload := mutations.OfKind("payload")
	if len(payload) < 8 {
		t.Fatalf("%d payload mutation types registered, want at least 8", len(payload))
	}
	// Every (subject, type) is either built and recorded or not applicable.
	seen := map[string]bool{}
	hier := map[string]Record{}
	for _, r := range recs {
		seen[r.Case+"/"+r.Mutation] = true
		if r.Detector == "hierarchical" {
			hier[r.Image] = r
		}
		if want := r.Case == "111"; r.Malicious() != want {
			t.Errorf("%s: label %s", r.Image, r.Label)
		}
	}
	for _, na := range nas {
		if seen[na.Subject+"/"+na.Mutation] {
			t.Errorf("%s/%s both built and not applicable", na.Subject, na.Mutation)
		}
		seen[na.Subject+"/"+na.Mutation] = true
	}
	for _, m := range payload {
		for _, subj := range []string{"000", "111", "cloudinit-base64"} {
			if !seen[subj+"/"+m.Name()] {
				t.Errorf("%s on %s: neither recorded nor not applicable", m.Name(), subj)
			}
		}
	}
	for _, m := range mutations.OfKind(mutations.LayerKinds...) {
		if !seen["cloudinit-base64/"+m.Name()] {
			t.Errorf("benign control %s on cloudinit-base64 missing", m.Name())
		}
	}
	for name, r := range hier {
		if r.Malicious() && len(r.MaliciousLayers) == 0 {
			t.Errorf("%s: malicious without malicious layers", name)
		}
		if !r.Malicious() && r.Flagged() {
			t.Errorf("%s: benign control flagged by hierarchical (score %.1f)", name, r.Score)
		}
	}
	abl, err := ReadRecords(filepath.Join(dir, AblationFile))
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]bool{}
	exps := map[string]bool{}
	for _, r := range abl {
		variants[r.Detector] = true
		exps[r.Experiment] = true
		if len(r.Findings) != 0 {
			t.Errorf("ablation record %s/%s keeps findings", r.Image, r.Detector)
		}
	}
	if !variants[AblationAll] || len(variants) < 3 || !exps[Exp2] || !exps[Exp3] {
		t.Errorf("ablation covers variants %v over experiments %v", sortedKeys(variants), sortedKeys(exps))
	}
	rep, err := Exp3ReportDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "ablation.csv", "applicability.csv", "detection_by_type.png", "fpr_by_type.svg", "ablation.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("report output: %v", err)
		}
	}
}
