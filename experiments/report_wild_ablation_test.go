package experiments

import (
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors"
)

func TestWildAblationTable(t *testing.T) {
	rec := func(image, label, family, det string, flagged bool) Record {
		d := detectors.Clean
		if flagged {
			d = detectors.Malicious
		}
		return Record{Schema: RecordSchema, Experiment: Wild, Image: "wild/" + image, Case: image, Label: label, Family: family, Detector: det, Decision: d}
	}
	abl := []Record{
		rec("a", LabelMalicious, "fetch-exec", AblationAll, true),
		rec("a", LabelMalicious, "fetch-exec", AblationWithout+"startgraph", false),
		rec("b", LabelMalicious, "archived-payload", AblationAll, true),
		rec("b", LabelMalicious, "archived-payload", AblationWithout+"startgraph", true),
		rec("c", LabelBenign, "ids-rules", AblationAll, false),
		rec("c", LabelBenign, "ids-rules", AblationWithout+"startgraph", true),
		rec("x", LabelMalicious, "fetch-exec", AblationAll, true), // another experiment's record is skipped
	}
	abl[len(abl)-1].Experiment = Exp2
	var warns []string
	tab := wildAblationTable(abl, func(f string, a ...any) { warns = append(warns, f) })
	if tab == nil {
		t.Fatalf("no table; warnings %v", warns)
	}
	var md strings.Builder
	if err := tab.Table.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(md.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"| hierarchical-all-signals | 2/2 | 0/1 | 0 |",
		"| hierarchical-without-startgraph | 1/2 | 1/1 | 2 | fetch-exec: -1, ids-rules: +1 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if wildAblationTable(nil, func(string, ...any) {}) != nil {
		t.Error("a table from no records")
	}
}
