package experiments

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors"
)

var update = flag.Bool("update", false, "rewrite testdata golden files from the current output")

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// TestExp1ReportGolden renders the synthetic records of testdata/exp1 (see
// testdata/README.md) and compares every output file and the terminal view.
func TestExp1ReportGolden(t *testing.T) {
	rep, err := Exp1ReportFile(filepath.Join("testdata", "exp1", "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, filepath.Join("testdata", "exp1", "golden", e.Name()+".golden"), got)
	}
	if want := []string{"cases.csv", "cost_per_image.csv", "report.md", "summary.csv"}; !slices.Equal(names, want) {
		t.Errorf("WriteDir wrote %v, want %v", names, want)
	}
	var term bytes.Buffer
	if err := rep.Print(&term); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "exp1", "golden", "report.txt.golden"), term.Bytes())
}

// TestExp1ReportDeterministic guards against map iteration leaking into the
// output: committed results must not change when nothing changed.
func TestExp1ReportDeterministic(t *testing.T) {
	render := func() []byte {
		rep, err := Exp1ReportFile(filepath.Join("testdata", "exp1", "records.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := rep.WriteMarkdown(&b); err != nil {
			t.Fatal(err)
		}
		if err := rep.Print(&b); err != nil {
			t.Fatal(err)
		}
		for _, nt := range rep.Tables {
			if err := nt.Table.WriteCSV(&b); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	first := render()
	for range 20 {
		if !bytes.Equal(render(), first) {
			t.Fatal("two renderings of the same records differ")
		}
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "records.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadRecords(t *testing.T) {
	const (
		a = `{"schema":1,"experiment":"exp1","image":"a","detector":"d"}`
		b = `{"schema":1,"experiment":"exp1","image":"b","detector":"d"}`
	)
	tests := []struct {
		name        string
		content     string
		wantImages  []string
		wantPartial int // line of the partial last line, 0 for none
		wantErr     bool
	}{
		{name: "empty file", content: ""},
		{name: "two records", content: a + "\n" + b + "\n", wantImages: []string{"a", "b"}},
		{name: "last line complete without newline", content: a + "\n" + b, wantImages: []string{"a", "b"}},
		{name: "blank lines skipped", content: "\n" + a + "\n\n  \n" + b + "\n", wantImages: []string{"a", "b"}},
		{name: "partial last line", content: a + "\n" + b[:20], wantImages: []string{"a"}, wantPartial: 2},
		{name: "partial only line", content: b[:20], wantPartial: 1},
		{name: "corrupt middle line", content: a + "\n" + b[:20] + "\n" + b + "\n", wantErr: true},
		{name: "corrupt last line with newline", content: a + "\n" + b[:20] + "\n", wantErr: true},
		{name: "wrong type", content: `{"schema":"one"}` + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := ReadRecords(writeFile(t, tt.content))
			var partial *PartialLineError
			switch {
			case tt.wantErr:
				if err == nil || errors.As(err, &partial) {
					t.Fatalf("err = %v, want a hard error", err)
				}
				if recs != nil {
					t.Errorf("records = %v, want none with a hard error", recs)
				}
				return
			case tt.wantPartial > 0:
				if !errors.As(err, &partial) {
					t.Fatalf("err = %v, want *PartialLineError", err)
				}
				if partial.Line != tt.wantPartial {
					t.Errorf("partial line = %d, want %d", partial.Line, tt.wantPartial)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			var images []string
			for _, r := range recs {
				images = append(images, r.Image)
			}
			if !slices.Equal(images, tt.wantImages) {
				t.Errorf("images = %v, want %v", images, tt.wantImages)
			}
		})
	}
}

func TestReadRecordsMissingFile(t *testing.T) {
	_, err := ReadRecords(filepath.Join(t.TempDir(), "nope.jsonl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want one wrapping os.ErrNotExist", err)
	}
}

// exp1Records returns one record per case for one detector that flags every
// malicious case and blames exactly its malicious layers.
func exp1Records(det string) []Record {
	var recs []Record
	for _, c := range exp1Cases() {
		r := Record{Schema: RecordSchema, Experiment: Exp1Name, Image: "exp1/case-" + c, Case: c,
			Label: LabelBenign, Detector: det, DetectorVersion: "1", Decision: detectors.Clean}
		for b, bit := range c {
			if bit == '1' {
				r.MaliciousLayers = append(r.MaliciousLayers, 8+b)
			}
		}
		if len(r.MaliciousLayers) > 0 {
			r.Label, r.Decision, r.BlamedLayers = LabelMalicious, detectors.Malicious, r.MaliciousLayers
		}
		recs = append(recs, r)
	}
	return recs
}

// summaryRow returns the summary table's cells for det, keyed by CSV key.
func summaryRow(t *testing.T, rep *Report, det string) map[string]string {
	t.Helper()
	for _, nt := range rep.Tables {
		if nt.Name != "summary" {
			continue
		}
		for _, row := range nt.Table.Rows {
			if row[0] == det {
				m := map[string]string{}
				for i, c := range nt.Table.Columns {
					m[c.Key] = row[i]
				}
				return m
			}
		}
	}
	t.Fatalf("no summary row for %s", det)
	return nil
}

func TestExp1Report(t *testing.T) {
	tests := []struct {
		name         string
		records      func() []Record
		det          string
		want         map[string]string // summary cells by CSV key
		wantWarnings []string          // substrings, each in some warning
		wantErr      bool
	}{
		{
			name:    "perfect detector",
			records: func() []Record { return exp1Records("hierarchical") },
			det:     "hierarchical",
			want: map[string]string{
				"paper": "proposed 100%", "detected_of_8": "7/8 (87.5%)",
				"tpr": "100.0% [59.0–100.0] (7/7)", "case_000": "clean (TN)",
				"layer_precision": "100.0% [73.5–100.0] (12/12)", "layer_recall": "100.0% [73.5–100.0] (12/12)",
			},
		},
		{
			name: "false positive counts in of-8 but not in TPR",
			records: func() []Record {
				recs := exp1Records("digest-layer")
				recs[0].Decision = detectors.Malicious
				return recs
			},
			det:  "digest-layer",
			want: map[string]string{"paper": "Docker Scout 87%", "detected_of_8": "8/8 (100.0%)", "tpr": "100.0% [59.0–100.0] (7/7)", "case_000": "flagged (FP)"},
		},
		{
			name: "last of repeated records wins",
			records: func() []Record {
				recs := exp1Records("multiengine")
				first := recs[7]
				first.Decision, first.BlamedLayers = detectors.Clean, nil
				return append([]Record{first}, recs...)
			},
			det:          "multiengine",
			want:         map[string]string{"tpr": "100.0% [59.0–100.0] (7/7)"},
			wantWarnings: []string{"exp1/case-111, detector multiengine: 2 records"},
		},
		{
			name: "error, incomplete and missing are misses",
			records: func() []Record {
				recs := exp1Records("d")
				recs[1].Decision, recs[1].Error = "", "boom"
				recs[2].Decision = detectors.Incomplete
				return append(recs[:3], recs[4:]...) // case 011 missing
			},
			det:          "d",
			want:         map[string]string{"paper": "n/a (not in paper)", "detected_of_8": "4/7 (57.1%)", "tpr": "66.7% [22.3–95.7] (4/6)"},
			wantWarnings: []string{"scan failed: boom", "case 011: no records"},
		},
		{
			name: "blames only count on flagged verdicts",
			records: func() []Record {
				recs := exp1Records("d")
				recs[7].Decision = detectors.Clean // keeps blamed 8,9,10
				recs[4].BlamedLayers = []int{3, 8}
				return recs
			},
			det:  "d",
			want: map[string]string{"layer_precision_k": "9", "layer_precision_n": "10", "layer_recall_k": "9", "layer_recall_n": "12"},
		},
		{
			name:         "other experiments skipped",
			records:      func() []Record { recs := exp1Records("d"); recs[3].Experiment = "exp2"; return recs },
			det:          "d",
			want:         map[string]string{"detected_of_8": "6/7 (85.7%)"},
			wantWarnings: []string{`skipped 1 record(s) with experiment "exp2"`},
		},
		{
			name:         "label disagrees with case bits",
			records:      func() []Record { recs := exp1Records("d"); recs[0].Label = LabelMalicious; return recs },
			det:          "d",
			want:         map[string]string{"tpr": "87.5% [47.3–99.7] (7/8)"},
			wantWarnings: []string{"case 000 (exp1/case-000): labelled malicious"},
		},
		{
			name:         "mixed detector versions",
			records:      func() []Record { recs := exp1Records("d"); recs[5].DetectorVersion = "2"; return recs },
			det:          "d",
			want:         map[string]string{"detector_version": "1 2"},
			wantWarnings: []string{"detector d: records from 2 versions"},
		},
		{
			name:    "no exp1 records",
			records: func() []Record { return []Record{{Experiment: "exp2", Case: "101"}} },
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Exp1Report(tt.records())
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			row := summaryRow(t, rep, tt.det)
			for k, want := range tt.want {
				if row[k] != want {
					t.Errorf("%s = %q, want %q", k, row[k], want)
				}
			}
			for _, w := range tt.wantWarnings {
				if !slices.ContainsFunc(rep.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning containing %q in %q", w, rep.Warnings)
				}
			}
			if len(tt.wantWarnings) == 0 && len(rep.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", rep.Warnings)
			}
		})
	}
}

func TestWriteDirRejectsBadNames(t *testing.T) {
	rep, err := Exp1Report(exp1Records("d"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "../x", "a/b", "summary"} {
		bad := *rep
		bad.Tables = slices.Clone(rep.Tables)
		bad.Tables[0].Name = name // "summary" duplicates the second table
		if err := bad.WriteDir(t.TempDir()); err == nil {
			t.Errorf("WriteDir with table name %q: want error", name)
		}
	}
}
