package experiments

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors"
)

func exp3Rec(exp, image, mutation, label, det string, flagged bool, malLayers, blamed []int) Record {
	r := Record{Schema: RecordSchema, Experiment: exp, Image: image, ManifestDigest: "sha256:" + image,
		Case: "111", Mutation: mutation, MutationVersion: "1", Label: label, Detector: det,
		DetectorVersion: "1", Decision: detectors.Clean, MaliciousLayers: malLayers, BlamedLayers: blamed}
	if label == LabelBenign {
		r.Case = "monero-node"
	}
	if flagged {
		r.Decision = detectors.Malicious
	}
	return r
}

// csvOf returns the CSV text of the report's table name.
func csvOf(t *testing.T, rep *Report, name string) string {
	t.Helper()
	for _, tb := range rep.Tables {
		if tb.Name == name {
			return csvTable(t, tb)
		}
	}
	t.Fatalf("report has no table %q", name)
	return ""
}

// TestExp3Report checks the rates experiment 3's report derives: per type
// over malicious and benign variants, applicability from records and the
// not-applicable list, and the ablation over both experiments' images.
func TestExp3Report(t *testing.T) {
	recs := []Record{
		exp3Rec(Exp3, "a", "pad-binary", LabelMalicious, "hierarchical", true, []int{9}, []int{9}),
		exp3Rec(Exp3, "b", "pad-binary", LabelMalicious, "hierarchical", false, []int{9}, nil),
		exp3Rec(Exp3, "c", "random-env", LabelBenign, "hierarchical", true, []int{}, []int{3}),
		exp3Rec(Exp3, "d", "random-env", LabelBenign, "hierarchical", false, []int{}, nil),
	}
	abl := []Record{
		exp3Rec(Exp2, "e2", "dummy-echo", LabelMalicious, AblationAll, true, []int{9}, []int{9}),
		exp3Rec(Exp2, "e2", "dummy-echo", LabelMalicious, AblationOnly+"hash", false, []int{9}, nil),
		exp3Rec(Exp3, "a", "pad-binary", LabelMalicious, AblationAll, true, []int{9}, []int{9}),
		exp3Rec(Exp3, "a", "pad-binary", LabelMalicious, AblationOnly+"hash", true, []int{9}, []int{9}),
	}
	nas := []NotApplicable{{Experiment: Exp3, Subject: "101", Label: LabelMalicious, Mutation: "pad-binary", MutationVersion: "1", Seed: 1}}
	rep, err := Exp3Report(recs, abl, nas)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ table, want string }{
		{"tpr_by_type", "pad-binary,1,50.0% [1.3–98.7] (1/2)"},
		{"fpr_by_type", "random-env,1,50.0% [1.3–98.7] (1/2)"},
		{"fpr_by_type", "pad-binary,1,n/a (0/0)"},
		{"summary", "hierarchical,1,50.0% [1.3–98.7] (1/2),1,2,0.5000,0.0126,0.9874,50.0% [1.3–98.7] (1/2)"},
		{"applicability", "pad-binary,2,1,0,0,\n"},
		{"applicability", "random-env,0,0,2,0,all\n"},
		// Ablation: variant, then exp2 TPR, exp2 FPR, exp3 TPR, exp3 FPR.
		{"ablation", AblationAll + ",100.0% [2.5–100.0] (1/1),1,1,1.0000,0.0250,1.0000,n/a (0/0),0,0,NaN,NaN,NaN,100.0% [2.5–100.0] (1/1)"},
		{"ablation", AblationOnly + "hash,0.0% [0.0–97.5] (0/1),0,1,0.0000,0.0000,0.9750,n/a (0/0),0,0,NaN,NaN,NaN,100.0% [2.5–100.0] (1/1)"},
	} {
		if csv := csvOf(t, rep, tc.table); !strings.Contains(csv, tc.want) {
			t.Errorf("table %s lacks %q:\n%s", tc.table, tc.want, csv)
		}
	}
	// Both experiments are counted in the ablation: exp2's 1/1 and exp3's 1/1.
	csv := csvOf(t, rep, "ablation")
	for _, line := range strings.Split(csv, "\n") {
		if strings.HasPrefix(line, AblationAll+",") && strings.Count(line, "n/a") > 2 {
			t.Errorf("ablation row counts an experiment as empty: %s", line)
		}
	}
	if len(rep.Figures) != 3 {
		t.Errorf("%d figures, want detection_by_type, fpr_by_type, ablation", len(rep.Figures))
	}
	// Without ablation records the report says so instead of failing.
	rep, err = Exp3Report(recs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "no ablation records") {
		t.Errorf("warnings %q lack the missing ablation", rep.Warnings)
	}
}

// TestCostTable: per-detector medians, p90, max and totals of scan_ms, and
// the sandbox's setup median only for detectors whose records carry it.
func TestCostTable(t *testing.T) {
	var recs []Record
	for i, ms := range []int64{100, 200, 300, 400, 10000} {
		r := exp3Rec(Exp3, "i"+string(rune('a'+i)), "squash", LabelMalicious, "hierarchical", true, nil, nil)
		r.ScanMillis = ms
		recs = append(recs, r)
		b := exp3Rec(Exp3, "i"+string(rune('a'+i)), "squash", LabelMalicious, "behaviour", true, nil, nil)
		b.ScanMillis = 10000 + ms
		b.Info = map[string]string{"setup_seconds": []string{"0.1", "0.2", "0.3", "0.4", "9"}[i]}
		recs = append(recs, b)
	}
	recs = append(recs, exp3Rec("exp2", "other", "squash", LabelMalicious, "hierarchical", true, nil, nil))
	got := csvTable(t, costTable(recs, Exp3))
	want := "detector,images,median_s,p90_s,max_s,total_s,sandbox_setup_median_s\n" +
		"behaviour,5,10.30,20.00,20.00,61,0.30\n" +
		"hierarchical,5,0.30,10.00,10.00,11,\n"
	if got != want {
		t.Errorf("cost table:\n%s\nwant:\n%s", got, want)
	}
}

func csvTable(t *testing.T, nt NamedTable) string {
	t.Helper()
	var b bytes.Buffer
	if err := nt.Table.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
