package experiments

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/wild"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/dockerfile"
)

// TestPrebuildCorpus scans the Dockerfiles and build contexts of the
// benign corpus, the census images and every wild subject with the
// pre-build detector, as a build would (Env.build), and logs what it
// flags per label: false positives are measured, not asserted, as the
// rules are not tuned to these images. Asserted: every scan succeeds, and
// not every malicious wild subject is missed. Contexts
// are written without their .deb packages (bind-mounted by RUN, never
// copied) and compiled programs (wild subjects' Prepare).
func TestPrebuildCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("writes every corpus context: skipped under -short")
	}
	type subj struct {
		im    benign.Image
		label string
	}
	var all []subj
	for _, im := range benign.Images() {
		all = append(all, subj{im, "benign"})
	}
	for _, im := range benign.CensusImages() {
		all = append(all, subj{im, "census"})
	}
	for _, s := range wild.Subjects() {
		all = append(all, subj{s.Image(), "wild-" + s.Label})
	}
	flagged, total := map[string]int{}, map[string]int{}
	for _, s := range all {
		im := s.im
		im.Packages, im.Prepare = nil, nil
		dir := filepath.Join(t.TempDir(), "ctx")
		if err := im.WriteContext(dir, ""); err != nil {
			t.Fatalf("%s: %v", im.Name, err)
		}
		df, err := im.Dockerfile(benign.Options{ServerURL: "http://127.0.0.1:8080"})
		if err != nil {
			t.Fatalf("%s: %v", im.Name, err)
		}
		p := prebuildScan(context.Background(), im.Name, df, dir)
		if p.Err != nil {
			t.Errorf("%s: %v", im.Name, p.Err)
			continue
		}
		total[s.label]++
		if p.Verdict.Decision == detectors.Malicious {
			flagged[s.label]++
			if s.label != "wild-malicious" {
				t.Logf("%s (%s) flagged, score %v", im.Name, s.label, p.Verdict.Score)
				for _, f := range p.Verdict.Findings {
					if f.Weight > 0 {
						t.Logf("    line %d %s +%v: %s", f.Line, f.Rule, f.Weight, f.Evidence)
					}
				}
			}
		} else if p.Verdict.Decision != detectors.Clean {
			t.Logf("%s (%s): %s", im.Name, s.label, p.Verdict.Decision)
		}
	}
	for l, n := range total {
		t.Logf("%s: %d of %d flagged malicious before build", l, flagged[l], n)
	}
	if total["wild-malicious"] > 0 && flagged["wild-malicious"] == 0 {
		t.Errorf("no malicious wild subject flagged before build")
	}
}

// TestExp2ReportDockerfileRow: records of the dockerfile detector give it
// a row in experiment 2's summary and columns in its per-type tables, with
// no special case in the report.
func TestExp2ReportDockerfileRow(t *testing.T) {
	types := []string{"add-dummy-layer", "squash"}
	recs := append(exp2TestRecords("hierarchical", types, 1), exp2TestRecords(dockerfile.Name, types, 1)...)
	rep, err := Exp2Report(recs)
	if err != nil {
		t.Fatal(err)
	}
	if got := tableRow(t, rep, "summary", dockerfile.Name)["detector"]; got != dockerfile.Name {
		t.Errorf("summary row %q, want %s", got, dockerfile.Name)
	}
	found := false
	for _, nt := range rep.Tables {
		for _, c := range nt.Table.Columns {
			found = found || strings.HasPrefix(c.Key, dockerfile.Name)
		}
	}
	if !found {
		t.Error("no table has a dockerfile column")
	}
}
