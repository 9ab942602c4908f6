package experiments

import (
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/corpus/census"
	"github.com/strata-sec/strata/detectors"
)

func TestCensusReport(t *testing.T) {
	rec := func(img, eco, split, det string, d detectors.Decision, score float64, fs ...detectors.Finding) Record {
		return Record{Schema: RecordSchema, Experiment: Census, Image: img, Family: eco, Split: split, Label: LabelBenign,
			Detector: det, DetectorVersion: "0.6.0", Decision: d, Score: score, Threshold: 10, Findings: fs}
	}
	longEvidence := "stratum+tcp://pool.example.com:3333 " + strings.Repeat("x", 2*censusEvidenceShown)
	recs := []Record{
		rec("census/debian/a", census.Debian, census.Dev, "hierarchical", detectors.Clean, 0),
		rec("census/debian/b", census.Debian, census.Dev, "hierarchical", detectors.Malicious, 12,
			detectors.Finding{Rule: "pool-url", Weight: 6, Path: "usr/bin/b", Evidence: longEvidence}),
		rec("census/debian/c", census.Debian, census.Dev, "hierarchical", detectors.Incomplete, 0),
		rec("census/npm/d", census.NPM, census.Test, "hierarchical", detectors.Clean, 3),
		// a repeated scan replaces the earlier record
		rec("census/npm/d", census.NPM, census.Test, "hierarchical", detectors.Clean, 1),
		rec("benign/monero-node", "", "", "hierarchical", detectors.Clean, 7),
	}
	rep, err := censusReport(recs)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[[3]string][]string{}
	for _, r := range rep.Tables[0].Table.Rows {
		rows[[3]string{r[0], r[1], r[2]}] = r
	}
	for _, tt := range []struct {
		name                  string
		key                   [3]string
		images, k, n, incompl string
	}{
		{"debian dev: incomplete apart", [3]string{census.Debian, census.Dev, "hierarchical"}, "3", "1", "2", "1"},
		{"npm test: last record", [3]string{census.NPM, census.Test, "hierarchical"}, "1", "0", "1", "0"},
		{"old records are ordinary dev", [3]string{census.Ordinary, census.Dev, "hierarchical"}, "1", "0", "1", "0"},
		{"all pools ecosystems", [3]string{"all", census.Dev, "hierarchical"}, "4", "1", "3", "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := rows[tt.key]
			if !ok {
				t.Fatalf("no row %v in %v", tt.key, rep.Tables[0].Table.Rows)
			}
			// ecosystem, split, detector, version, images, FPR, k, n, p, lo, hi, incomplete
			if r[3] != "0.6.0" || r[4] != tt.images || r[6] != tt.k || r[7] != tt.n || r[11] != tt.incompl {
				t.Errorf("row %v: want version 0.6.0, images %s, %s/%s flagged, %s incomplete", r, tt.images, tt.k, tt.n, tt.incompl)
			}
		})
	}
	fa := rep.Tables[1].Table.Rows
	// detector, version, image, ecosystem, split, rule, path, evidence shown, disposition, evidence (CSV only)
	if len(fa) != 1 || fa[0][1] != "0.6.0" || fa[0][2] != "census/debian/b" || fa[0][5] != "pool-url" || fa[0][6] != "usr/bin/b" || fa[0][8] != "open" {
		t.Fatalf("false alarms %v: want census/debian/b's pool-url finding of 0.6.0, disposition open", fa)
	}
	if fa[0][9] != longEvidence {
		t.Errorf("fp_findings.csv's evidence %q: want it whole", fa[0][9])
	}
	if !strings.HasSuffix(fa[0][7], "…") || len(fa[0][7]) > censusEvidenceShown+len("…") {
		t.Errorf("shown evidence %q: want it shortened to %d characters", fa[0][7], censusEvidenceShown)
	}
	var csv strings.Builder
	if err := rep.Tables[1].Table.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), longEvidence) {
		t.Errorf("fp_findings.csv does not hold the evidence whole:\n%s", csv.String())
	}
	var figs []string
	for _, f := range rep.Figures {
		figs = append(figs, f.Name)
	}
	if !slices.Equal(figs, []string{"scores_dev", "scores_test"}) {
		t.Errorf("figures %v: want the score histograms of dev and test apart", figs)
	}
	for _, tt := range []struct {
		score, threshold float64
		want             int
	}{{0, 10, 0}, {1.5, 10, 1}, {8, 10, 3}, {9, 10, 4}, {10, 10, 5}, {30, 10, 5}} {
		if got := scoreBin(tt.score, tt.threshold); got != tt.want {
			t.Errorf("scoreBin(%v, %v) = %d, want %d", tt.score, tt.threshold, got, tt.want)
		}
	}
}

func TestCensusCanaryTable(t *testing.T) {
	rec := func(img, det string, d detectors.Decision) Record {
		return Record{Schema: RecordSchema, Experiment: Census, Image: img, Family: census.NPM, Label: LabelMalicious,
			Detector: det, DetectorVersion: "1", Decision: d, Score: 12, Threshold: 10,
			Findings: []detectors.Finding{{Rule: "stratum-url", Weight: 6}, {Rule: "stratum-url", Weight: 6}}}
	}
	tests := []struct {
		name     string
		recs     []Record
		wantWarn bool
	}{
		{"hierarchical flags it", []Record{rec("census/canary/npm/x", "hierarchical", detectors.Malicious), rec("census/canary/npm/x", "digest-image", detectors.Clean)}, false},
		{"hierarchical misses it", []Record{rec("census/canary/npm/x", "hierarchical", detectors.Clean)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warns []string
			nt := censusCanaryTable(tt.recs, func(f string, a ...any) { warns = append(warns, f) })
			if len(nt.Table.Rows) != len(tt.recs) {
				t.Errorf("%d rows, want one per record", len(nt.Table.Rows))
			}
			if got := nt.Table.Rows[0][6]; got != "stratum-url" {
				t.Errorf("rules %q, want each rule once", got)
			}
			if (len(warns) > 0) != tt.wantWarn {
				t.Errorf("warnings %v, want a warning: %v", warns, tt.wantWarn)
			}
		})
	}
}
