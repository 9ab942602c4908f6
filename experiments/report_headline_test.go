package experiments

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var headlineResults = filepath.Join("testdata", "headline")

func TestHeadlineSubject(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"exp1 malicious case", Record{Experiment: Exp1, Image: "exp1/case-101", Case: "101", Label: LabelMalicious}, sampleSubject},
		{"exp1 benign case 000", Record{Experiment: Exp1, Image: "exp1/case-000", Case: "000", Label: LabelBenign}, sampleBenignSubject},
		{"exp2 malicious variant", Record{Experiment: Exp2, Image: "exp2/case-011/squash/seed-101", Case: "011", Label: LabelMalicious}, sampleSubject},
		{"exp2 benign variant", Record{Experiment: Exp2, Image: "exp2/case-000/squash/seed-101", Case: "000", Label: LabelBenign}, sampleBenignSubject},
		{"exp3 benign corpus image", Record{Experiment: Exp3, Image: "exp3/benign-monero-node/random-env/seed-101", Case: "monero-node", Label: LabelBenign}, "monero-node"},
		{"exp3 benign without case", Record{Experiment: Exp3, Image: "exp3/x", Label: LabelBenign}, "exp3/x"},
		{"wild subject", Record{Experiment: Wild, Image: "wild/xmrig-config-etc", Case: "xmrig-config-etc", Label: LabelMalicious}, "xmrig-config-etc"},
		{"wild without case", Record{Experiment: Wild, Image: "wild/pool-dash", Label: LabelBenign}, "pool-dash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := headlineSubject(tt.rec); got != tt.want {
				t.Errorf("headlineSubject = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHeadlineGolden renders testdata/headline (see testdata/README.md)
// and compares headline.md, headline.csv and the terminal view.
func TestHeadlineGolden(t *testing.T) {
	h, err := HeadlineReport(headlineResults)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := h.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, dir)
	if got := strings.Join(sortedKeys(files), " "); got != HeadlineCSV+" "+HeadlineMarkdown {
		t.Errorf("WriteFiles wrote %s", got)
	}
	for name, b := range files {
		checkGolden(t, filepath.Join(headlineResults, "golden", name+".golden"), b)
	}
	var term bytes.Buffer
	if err := h.Report.Print(&term); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join(headlineResults, "golden", "headline.txt.golden"), term.Bytes())
}

// headlineCell returns the Markdown-view cell of a detector table.
func headlineTableCell(t *testing.T, h *Headline, det, measure, column string) string {
	t.Helper()
	for _, nt := range h.Report.Tables {
		if nt.Name != "headline_"+det {
			continue
		}
		col := -1
		for i, c := range nt.Table.Columns {
			if c.Header == column {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("table %s has no column %q", nt.Name, column)
		}
		for _, row := range nt.Table.Rows {
			if row[0] == measure {
				return row[col]
			}
		}
		t.Fatalf("table %s has no row %q", nt.Name, measure)
	}
	t.Fatalf("no table for detector %s", det)
	return ""
}

// TestHeadlineNumbers pins the counts the golden files hold.
func TestHeadlineNumbers(t *testing.T) {
	h, err := HeadlineReport(headlineResults)
	if err != nil {
		t.Fatal(err)
	}
	const hier = "hierarchical"
	tests := []struct {
		det, measure, column, want string
	}{
		// exp1: three malicious cases of the one sample: 3 images, 1 subject.
		{hier, "TPR, images", Exp1, "100.0% [29.2–100.0] (3/3)"},
		{hier, "TPR, subjects (every variant flagged)", Exp1, "100.0% [2.5–100.0] (1/1)"},
		// digest-image flags one case of three: the subject has some variants flagged, so it is not detected.
		{"digest-image", "TPR, images", Exp1, "33.3% [0.8–90.6] (1/3)"},
		{"digest-image", "TPR, subjects (every variant flagged)", Exp1, "0.0% [0.0–97.5] (0/1)"},
		{"digest-image", "malicious subjects: every / some / none", Exp1, "0 / 1 / 0"},
		// exp2: one incomplete variant of four; one false alarm of two case-000 variants.
		{hier, "TPR, images", Exp2, "75.0% [19.4–99.4] (3/4)"},
		{hier, "TPR, subjects (every variant flagged)", Exp2, "0.0% [0.0–97.5] (0/1)"},
		{hier, "malicious subjects: every / some / none", Exp2, "0 / 1 / 0"},
		{hier, "FPR, images", Exp2, "50.0% [1.3–98.7] (1/2)"},
		{hier, "FPR, subjects (any variant flagged)", Exp2, "100.0% [2.5–100.0] (1/1)"},
		{hier, "benign subjects: every / some / none", Exp2, "0 / 1 / 0"},
		{hier, "incomplete (images)", Exp2, "1"},
		{"digest-image", "TPR, subjects (every variant flagged)", Exp2, "100.0% [2.5–100.0] (1/1)"},
		// exp3: benign subjects by corpus name plus case 000.
		{hier, "FPR, images", Exp3, "50.0% [6.8–93.2] (2/4)"},
		{hier, "FPR, subjects (any variant flagged)", Exp3, "33.3% [0.8–90.6] (1/3)"},
		{hier, "benign subjects: every / some / none", Exp3, "1 / 0 / 2"},
		{"digest-image", "TPR, images", Exp3, "not scanned"},
		// wild: splits apart, grey apart, incomplete a miss.
		{hier, "TPR, subjects (every variant flagged)", "wild dev (tuning)", "50.0% [1.3–98.7] (1/2)"},
		{hier, "FPR, subjects (any variant flagged)", "wild dev (tuning)", "0.0% [0.0–97.5] (0/1)"},
		{hier, "TPR, subjects (every variant flagged)", "wild test", "50.0% [1.3–98.7] (1/2)"},
		{hier, "FPR, subjects (any variant flagged)", "wild test", "50.0% [1.3–98.7] (1/2)"},
		{hier, "grey subjects flagged", "wild test", "1/1"},
		{hier, "grey subjects flagged", "wild dev (tuning)", "–"},
		{hier, "incomplete (images)", "wild test", "1"},
		// benign and census: no malicious image, so TPR is "–"; each
		// census image is its own subject, whatever its ecosystem (Case).
		{hier, "TPR, images", Benign, "–"},
		{hier, "FPR, subjects (any variant flagged)", Benign, "50.0% [1.3–98.7] (1/2)"},
		{hier, "TPR, subjects (every variant flagged)", "census dev", "–"},
		{hier, "malicious subjects: every / some / none", "census test", "–"},
		{hier, "FPR, images", "census dev", "50.0% [1.3–98.7] (1/2)"},
		{hier, "FPR, subjects (any variant flagged)", "census test", "0.0% [0.0–70.8] (0/3)"},
		{hier, "incomplete (images)", "census test", "1"},
		{"digest-image", "FPR, images", "census test", "not scanned"},
	}
	for _, tt := range tests {
		if got := headlineTableCell(t, h, tt.det, tt.measure, tt.column); got != tt.want {
			t.Errorf("%s, %s, %s = %q, want %q", tt.det, tt.measure, tt.column, got, tt.want)
		}
	}
	if h.Report.Tables[0].Name != "headline_hierarchical" {
		t.Errorf("first table %s, want the hierarchical detector's", h.Report.Tables[0].Name)
	}
	if len(h.Report.Warnings) != 0 {
		t.Errorf("warnings %q", h.Report.Warnings)
	}
}

// TestHeadlineMissing checks that a missing experiment is left out with a
// warning and that no records at all is an error saying what to do.
func TestHeadlineMissing(t *testing.T) {
	dir := t.TempDir()
	for _, exp := range []string{Exp1, Wild} {
		b, err := os.ReadFile(filepath.Join(headlineResults, exp, RecordsFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, exp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, exp, RecordsFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := HeadlineReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range h.Report.Tables[0].Table.Columns[1:] {
		cols = append(cols, c.Header)
	}
	if got, want := strings.Join(cols, ","), "exp1,wild dev (tuning),wild test"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	warns := strings.Join(h.Report.Warnings, "\n")
	for _, exp := range []string{Exp2, Exp3} {
		if !strings.Contains(warns, exp+": no records") {
			t.Errorf("warnings lack the missing %s:\n%s", exp, warns)
		}
	}
	if _, err := HeadlineReport(t.TempDir()); err == nil || !strings.Contains(err.Error(), "run the experiments") {
		t.Errorf("empty results dir: err = %v", err)
	}
}

// TestHeadlineCommitted re-derives a committed results/headline.md and
// headline.csv from the committed records, like TestReportCommitted does for
// each experiment; without a committed headline there is nothing to check.
func TestHeadlineCommitted(t *testing.T) {
	results := filepath.Join("..", "results")
	if _, err := os.Stat(filepath.Join(results, HeadlineMarkdown)); os.IsNotExist(err) {
		t.Skipf("no committed %s", HeadlineMarkdown)
	}
	h, err := HeadlineReport(results)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := h.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{HeadlineMarkdown, HeadlineCSV} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(results, name))
		if err != nil {
			t.Fatalf("%v (go run ./cmd/strata report headline writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("results/%s is stale: go run ./cmd/strata report headline", name)
		}
	}
}
