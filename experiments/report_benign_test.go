package experiments

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors"
)

func TestBenignReport(t *testing.T) {
	rec := func(img, det string, d detectors.Decision, score float64, fs ...detectors.Finding) Record {
		return Record{Schema: RecordSchema, Experiment: Benign, Image: img, Case: strings.TrimPrefix(img, "benign/"),
			Label: LabelBenign, MaliciousLayers: []int{}, Detector: det, DetectorVersion: "1", Decision: d,
			Score: score, Threshold: 10, Findings: fs}
	}
	records := []Record{
		rec("benign/a", "hierarchical", detectors.Clean, 3),
		rec("benign/a", "digest-image", detectors.Clean, 0),
		rec("benign/b", "hierarchical", detectors.Malicious, 11,
			detectors.Finding{Rule: "elf-mining-algorithms", Weight: 3, Layer: 1, Path: "usr/bin/monerod", Evidence: "cryptonight, rx/0"},
			detectors.Finding{Rule: "hier-hidden-evidence", Weight: 2, Layer: 2, Path: "usr/bin/x", Hidden: true, RemovedBy: 3}),
		rec("benign/b", "digest-image", detectors.Clean, 0),
		rec("benign/c", "hierarchical", detectors.Incomplete, 1),
		rec("benign/c", "digest-image", detectors.Clean, 0),
		{Schema: RecordSchema, Experiment: Exp1, Image: "exp1/case-111", Detector: "hierarchical", Label: LabelMalicious},
	}
	rep, err := BenignReport(records)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tables) != 3 {
		t.Fatalf("%d tables", len(rep.Tables))
	}
	csv := func(i int) string {
		var b bytes.Buffer
		if err := rep.Tables[i].Table.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	sum := csv(1)
	for _, want := range []string{"hierarchical,1,3,1,1,0,", "digest-image,1,3,0,0,0,"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	fp := csv(2)
	if !strings.Contains(fp, "benign/b,hierarchical,elf-mining-algorithms,3,1,usr/bin/monerod,") ||
		!strings.Contains(fp, "usr/bin/x (deleted by layer 3)") || strings.Contains(fp, "benign/a") {
		t.Errorf("findings table:\n%s", fp)
	}
	if !strings.Contains(csv(0), "benign/b,clean (TN) (0/10),flagged (FP) (11/10)") {
		t.Errorf("images table:\n%s", csv(0))
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "skipped 1 record") {
		t.Errorf("warnings %q", rep.Warnings)
	}
	if _, err := BenignReport(records[6:]); err == nil {
		t.Error("no error without benign records")
	}
}
