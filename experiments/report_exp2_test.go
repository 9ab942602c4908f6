package experiments

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/plot"
)

var exp2Records = filepath.Join("testdata", "exp2", "records.jsonl")

// checkGoldenPNG compares a PNG pixel by pixel with its golden file: the
// encoder's bytes may change between Go releases, what the figure shows
// must not.
func checkGoldenPNG(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		checkGolden(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	diff, err := plot.DiffPNG(got, want)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if diff != "" {
		t.Errorf("%s: %s (go test -update rewrites it)", path, diff)
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// TestExp2ReportGolden renders the synthetic records of testdata/exp2 (see
// testdata/README.md) and compares every output file and the terminal view:
// text byte for byte, PNGs pixel for pixel.
func TestExp2ReportGolden(t *testing.T) {
	rep, err := Exp2ReportFile(exp2Records)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, dir)
	names := sortedKeys(files)
	for _, name := range names {
		golden := filepath.Join("testdata", "exp2", "golden", name+".golden")
		if strings.HasSuffix(name, ".png") {
			checkGoldenPNG(t, golden, files[name])
		} else {
			checkGolden(t, golden, files[name])
		}
	}
	want := []string{
		"cases_digest-image.csv", "cases_digest-layer.csv", "cases_heatmap.png", "cases_heatmap.svg",
		"cases_hierarchical.csv", "cases_multiengine.csv", "cost_per_image.csv", "detection_by_type.png", "detection_by_type.svg",
		"fpr_by_type.csv", "localisation_by_type.csv", "report.md", "summary.csv", "tpr_by_type.csv",
		"two_engines_by_type.csv",
	}
	if !slices.Equal(names, want) {
		t.Errorf("WriteDir wrote %v, want %v", names, want)
	}
	for _, link := range []string{"](detection_by_type.svg)", "](detection_by_type.png)", "](cases_heatmap.svg)", "](cases_heatmap.png)"} {
		if !bytes.Contains(files[ReportMarkdown], []byte(link)) {
			t.Errorf("report.md has no relative link %q", link)
		}
	}
	var term bytes.Buffer
	if err := rep.Print(&term); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "exp2", "golden", "report.txt.golden"), term.Bytes())
}

// TestExp2ReportRegenerate deletes a written report and writes it again,
// from a freshly built report, into the same and into another directory:
// every file must come back byte for byte.
func TestExp2ReportRegenerate(t *testing.T) {
	write := func(dir string) {
		t.Helper()
		rep, err := Exp2ReportFile(exp2Records)
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	write(dir)
	first := readDir(t, dir)
	for name := range first {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	write(dir)
	other := t.TempDir()
	write(other)
	for _, d := range []string{dir, other} {
		again := readDir(t, d)
		if !slices.Equal(sortedKeys(again), sortedKeys(first)) {
			t.Fatalf("regenerated %v, first run wrote %v", sortedKeys(again), sortedKeys(first))
		}
		for name, b := range first {
			if !bytes.Equal(again[name], b) {
				t.Errorf("%s differs after regenerating into %s", name, d)
			}
		}
	}
}

// exp2TestRecords returns records for every case x type x seed for one
// detector that flags exactly the malicious variants and blames their
// malicious layers.
func exp2TestRecords(det string, types []string, seeds int) []Record {
	var recs []Record
	for _, mt := range types {
		for _, r := range exp1Records(det) {
			for s := 1; s <= seeds; s++ {
				r := r
				r.Experiment, r.Mutation, r.MutationVersion, r.Seed = exp2Experiment, mt, "1", int64(s)
				r.Image = fmt.Sprintf("exp2/case-%s/%s/seed-%d", r.Case, mt, s)
				recs = append(recs, r)
			}
		}
	}
	return recs
}

// tableRow returns the cells of the row of table name whose first cells
// are first, keyed by CSV key.
func tableRow(t *testing.T, rep *Report, name string, first ...string) map[string]string {
	t.Helper()
	for _, nt := range rep.Tables {
		if nt.Name != name {
			continue
		}
		for _, row := range nt.Table.Rows {
			if len(row) >= len(first) && slices.Equal(row[:len(first)], first) {
				m := map[string]string{}
				for i, c := range nt.Table.Columns {
					m[c.Key] = row[i]
				}
				return m
			}
		}
		t.Fatalf("table %s has no row %q", name, first)
	}
	t.Fatalf("no table %s", name)
	return nil
}

func TestExp2Report(t *testing.T) {
	twoTypes := []string{"b-type", "a-type"}
	type cell struct {
		table string
		row   []string
		key   string
		want  string
	}
	tests := []struct {
		name         string
		records      func() []Record
		opts         []Exp2Option
		cells        []cell
		wantTables   []string // names, in order; nil: don't check
		wantWarnings []string // substrings, each in some warning
		wantErr      bool
	}{
		{
			name:    "perfect detector, types sorted",
			records: func() []Record { return exp2TestRecords("hierarchical", twoTypes, 2) },
			cells: []cell{
				{"summary", []string{"hierarchical"}, "paper", "proposed 100%"},
				{"summary", []string{"hierarchical"}, "detected_of_all", "28/32 (87.5%)"},
				{"summary", []string{"hierarchical"}, "tpr", "100.0% [87.7–100.0] (28/28)"},
				{"summary", []string{"hierarchical"}, "fpr", "0.0% [0.0–60.2] (0/4)"},
				{"tpr_by_type", []string{"a-type"}, "hierarchical", "100.0% [76.8–100.0] (14/14)"},
				{"tpr_by_type", []string{"all types"}, "hierarchical_k", "28"},
				{"cases_hierarchical", []string{"a-type"}, "case_000", "0/2"},
				{"cases_hierarchical", []string{"a-type"}, "case_111", "2/2"},
				{"localisation_by_type", []string{"hierarchical", "b-type"}, "layer_recall", "100.0% [85.8–100.0] (24/24)"},
			},
			wantTables:   []string{"summary", "tpr_by_type", "fpr_by_type", "localisation_by_type", "cost_per_image", "cases_hierarchical"},
			wantWarnings: []string{"records hold 2 mutation types (a-type, b-type); the paper's design has 10"},
		},
		{
			name: "last of repeated records wins",
			records: func() []Record {
				recs := exp2TestRecords("d", []string{"t"}, 1)
				first := recs[7] // case 111
				first.Decision, first.BlamedLayers = detectors.Clean, nil
				return append([]Record{first}, recs...)
			},
			cells:        []cell{{"summary", []string{"d"}, "tpr", "100.0% [59.0–100.0] (7/7)"}},
			wantWarnings: []string{"1 (image, detector) pair(s) recorded more than once (a repeated run; the last record of each is used), e.g. exp2/case-111/t/seed-1, detector d: 2 records"},
		},
		{
			name: "missing variant and missing detector record",
			records: func() []Record {
				recs := append(exp2TestRecords("d", []string{"t"}, 2), exp2TestRecords("e", []string{"t"}, 2)...)
				recs = slices.DeleteFunc(recs, func(r Record) bool {
					return r.Image == "exp2/case-011/t/seed-2" || (r.Detector == "e" && r.Image == "exp2/case-101/t/seed-1")
				})
				return recs
			},
			cells: []cell{
				{"summary", []string{"d"}, "tpr", "100.0% [75.3–100.0] (13/13)"},
				{"summary", []string{"e"}, "tpr", "92.3% [64.0–99.8] (12/13)"},
				{"cases_e", []string{"t"}, "case_011", "1/1"},
				{"cases_e", []string{"t"}, "case_101", "1/2"},
			},
			wantWarnings: []string{
				"1 of 16 variants (8 cases x 1 types x 2 seeds) have no records; rates count the variants present: 011/t/seed 2",
				"detector e: no record; counted as not flagged (1): 101/t/seed 1",
			},
		},
		{
			name: "scan errors are misses and grouped",
			records: func() []Record {
				recs := exp2TestRecords("d", []string{"t"}, 5)
				for i := range recs {
					if recs[i].Case == "111" {
						recs[i].Decision, recs[i].Error = "", "boom"
					}
				}
				return recs
			},
			cells: []cell{{"summary", []string{"d"}, "tpr_k", "30"}},
			wantWarnings: []string{
				"detector d: scan failed; counted as not flagged (5): 111/t/seed 1: boom; 111/t/seed 2: boom; 111/t/seed 3: boom; and 2 more",
			},
		},
		{
			name: "a failed sandbox run is warned about",
			records: func() []Record {
				recs := exp2TestRecords("d", []string{"t"}, 1)
				recs[7].Findings = []detectors.Finding{{Category: detectors.CategoryNotScanned, Rule: "not-scanned", Evidence: "dynamic-not-run: behaviour: runc create: exit status 1"}}
				return recs
			},
			cells:        []cell{{"summary", []string{"d"}, "tpr", "100.0% [59.0–100.0] (7/7)"}},
			wantWarnings: []string{"1 record(s) of a detector with the sandbox stage whose run failed (dynamic-not-run: the static verdict stands, incomplete below the threshold), e.g. exp2/case-111/t/seed-1, detector d"},
		},
		{
			name:    "registry names unknown and absent types",
			records: func() []Record { return exp2TestRecords("d", []string{"a", "zz"}, 1) },
			opts:    []Exp2Option{WithMutations([]string{"a", "b", "c"})},
			wantWarnings: []string{
				"records name 1 mutation type(s) the registry does not know: zz; shown as recorded",
				"2 registered mutation type(s) have no records: b, c",
			},
		},
		{
			name: "mixed detector and mutation versions",
			records: func() []Record {
				recs := exp2TestRecords("d", []string{"t", "u"}, 1)
				recs[3].DetectorVersion = "2"
				recs[3].MutationVersion = "2"
				return recs
			},
			cells: []cell{
				{"summary", []string{"d"}, "detector_version", "1 2"},
				{"tpr_by_type", []string{"t"}, "mutation_version", "1 2"},
			},
			wantWarnings: []string{"detector d: records from 2 versions (1, 2)", "mutation t: variants from 2 versions (1, 2)"},
		},
		{
			name: "verdict_2plus in both spellings",
			records: func() []Record {
				recs := exp2TestRecords("multiengine", []string{"t"}, 2)
				for i := range recs {
					r := &recs[i]
					switch {
					case r.Case == "000" && r.Seed == 1:
						r.Decision = detectors.Malicious
						r.Info = map[string]string{InfoVerdict2Plus: "true"}
					case r.Case == "111":
						r.Info = map[string]string{InfoVerdict2Plus: string(detectors.Malicious)}
					case r.Case == "110" && r.Seed == 2:
						r.Info = map[string]string{InfoVerdict2Plus: "maybe"}
					case r.Seed == 1:
						r.Info = map[string]string{InfoVerdict2Plus: "false"}
					default:
						r.Info = map[string]string{InfoVerdict2Plus: string(detectors.Clean)}
					}
				}
				return recs
			},
			cells: []cell{
				{"summary", []string{"multiengine"}, "paper", "VirusTotal 71.4%"},
				{"summary", []string{"multiengine"}, "fpr", "50.0% [1.3–98.7] (1/2)"},
				{"two_engines_by_type", []string{"multiengine", "t"}, "tpr_any", "100.0% [76.8–100.0] (14/14)"},
				{"two_engines_by_type", []string{"multiengine", "t"}, "tpr_2plus", "14.3% [1.8–42.8] (2/14)"},
				{"two_engines_by_type", []string{"multiengine", "all types"}, "fpr_2plus", "50.0% [1.3–98.7] (1/2)"},
			},
			wantWarnings: []string{`detector multiengine: info.verdict_2plus missing or not a decision; counted as fewer than 2 engines (1): 110/t/seed 2: "maybe"`},
		},
		{
			name: "ground truth problems grouped",
			records: func() []Record {
				recs := exp2TestRecords("d", []string{"t"}, 1)
				recs[0].Label = LabelMalicious // case 000
				return recs
			},
			cells:        []cell{{"summary", []string{"d"}, "fpr", "n/a (0/0)"}},
			wantWarnings: []string{"label contradicts the case bits; the label is used (1): 000/t/seed 1 (exp2/case-000/t/seed-1): labelled malicious"},
		},
		{
			name: "other experiments and unmutated records skipped",
			records: func() []Record {
				recs := exp2TestRecords("d", []string{"t"}, 1)
				return append(recs, exp1Records("d")[0], Record{Experiment: exp2Experiment, Case: "101", Image: "x", Detector: "d"})
			},
			wantWarnings: []string{`skipped 1 record(s) with experiment "exp1"`, "skipped 1 record(s) with no mutation"},
		},
		{
			name:    "no exp2 records",
			records: func() []Record { return exp1Records("d") },
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Exp2Report(tt.records(), tt.opts...)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.cells {
				if got := tableRow(t, rep, c.table, c.row...)[c.key]; got != c.want {
					t.Errorf("%s %q %s = %q, want %q", c.table, c.row, c.key, got, c.want)
				}
			}
			if tt.wantTables != nil {
				var names []string
				for _, nt := range rep.Tables {
					names = append(names, nt.Name)
				}
				if !slices.Equal(names, tt.wantTables) {
					t.Errorf("tables %v, want %v", names, tt.wantTables)
				}
			}
			for _, w := range tt.wantWarnings {
				if !slices.ContainsFunc(rep.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning containing %q in %q", w, rep.Warnings)
				}
			}
			if len(rep.Figures) != 2 {
				t.Errorf("%d figures, want 2", len(rep.Figures))
			}
		})
	}
}

func TestWriteDirRejectsBadFigureNames(t *testing.T) {
	rep, err := Exp2Report(exp2TestRecords("d", []string{"t"}, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "../x", `a\b`, "cases_heatmap"} {
		bad := *rep
		bad.Figures = slices.Clone(rep.Figures)
		bad.Figures[0].Name = name // "cases_heatmap" duplicates the second figure
		if err := bad.WriteDir(t.TempDir()); err == nil {
			t.Errorf("WriteDir with figure name %q: want error", name)
		}
	}
}
