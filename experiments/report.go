package experiments

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sec/strata/internal/plot"
	"github.com/strata-sec/strata/internal/table"
)

// Report is a set of tables and figures derived from records, plus every
// non-fatal problem met while deriving them. Reports carry no timestamps and
// iterate nothing in map order, so the same records always give
// byte-identical output (pixel-identical PNGs) and committed results diff
// cleanly.
type Report struct {
	Title    string
	Tables   []NamedTable
	Figures  []NamedFigure
	Warnings []string
}

// NamedTable is one table of a report. Name is the file stem of its CSV
// ("summary" -> summary.csv), Title its heading, and Note says how to read
// it (definitions, what counts as what).
type NamedTable struct {
	Name  string
	Title string
	Note  string
	Table *table.Table
}

// NamedFigure is one figure of a report. Name is the file stem of its
// images (WriteDir writes <name>.png and <name>.svg), Title its heading and
// alt text, and Note says how to read it.
type NamedFigure struct {
	Name   string
	Title  string
	Note   string
	Figure *plot.Figure
}

// ReportMarkdown is the file WriteDir puts the Markdown report in.
const ReportMarkdown = "report.md"

// WriteDir writes the report into dir (created if needed): all tables, their
// notes, links to the figures and the warnings in ReportMarkdown, one
// <name>.csv per table and a <name>.png and <name>.svg per figure.
func (r *Report) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create report dir: %w", err)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ReportMarkdown), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	for _, nt := range r.Tables {
		var b bytes.Buffer
		if err := nt.Table.WriteCSV(&b); err != nil {
			return fmt.Errorf("table %s: %w", nt.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, nt.Name+".csv"), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write table %s: %w", nt.Name, err)
		}
	}
	for _, nf := range r.Figures {
		for _, f := range []struct {
			ext   string
			write func(io.Writer) error
		}{{".png", nf.Figure.WritePNG}, {".svg", nf.Figure.WriteSVG}} {
			var b bytes.Buffer
			if err := f.write(&b); err != nil {
				return fmt.Errorf("figure %s: %w", nf.Name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, nf.Name+f.ext), b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write figure %s: %w", nf.Name, err)
			}
		}
	}
	return nil
}

// checkNames rejects table and figure names that are not plain, unique file
// stems, so WriteDir can neither escape dir nor overwrite one output with
// another.
func (r *Report) checkNames() error {
	plain := func(name string) bool {
		return name != "" && !strings.ContainsAny(name, `/\`) && name != "." && name != ".."
	}
	seen := map[string]bool{}
	for _, nt := range r.Tables {
		if !plain(nt.Name) || nt.Name+".csv" == ReportMarkdown {
			return fmt.Errorf("report table name %q is not a plain file stem", nt.Name)
		}
		if seen[nt.Name] {
			return fmt.Errorf("report has two tables named %q", nt.Name)
		}
		seen[nt.Name] = true
	}
	seen = map[string]bool{}
	for _, nf := range r.Figures {
		if !plain(nf.Name) {
			return fmt.Errorf("report figure name %q is not a plain file stem", nf.Name)
		}
		if seen[nf.Name] {
			return fmt.Errorf("report has two figures named %q", nf.Name)
		}
		if nf.Figure == nil {
			return fmt.Errorf("report figure %q has nothing to draw", nf.Name)
		}
		seen[nf.Name] = true
	}
	return nil
}

// WriteMarkdown writes the whole report as one GitHub Markdown document.
func (r *Report) WriteMarkdown(w io.Writer) error {
	if err := r.checkNames(); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n", r.Title)
	for _, nt := range r.Tables {
		fmt.Fprintf(&b, "\n## %s\n\n", nt.Title)
		if err := nt.Table.WriteMarkdown(&b); err != nil {
			return fmt.Errorf("table %s: %w", nt.Name, err)
		}
		if nt.Note != "" {
			fmt.Fprintf(&b, "\n%s\n", nt.Note)
		}
	}
	if len(r.Figures) > 0 {
		b.WriteString("\n## Figures\n")
	}
	for _, nf := range r.Figures {
		// Relative links: report.md sits next to the images WriteDir writes.
		fmt.Fprintf(&b, "\n### %s\n\n![%s](%s.svg)\n\nPNG: [%s.png](%s.png)\n", nf.Title, mdAltText(nf.Title), nf.Name, nf.Name, nf.Name)
		if nf.Note != "" {
			fmt.Fprintf(&b, "\n%s\n", nf.Note)
		}
	}
	b.WriteString("\n## Warnings\n\n")
	if len(r.Warnings) == 0 {
		// Say it explicitly: an absent section could also mean a tool that
		// dropped them.
		b.WriteString("None.\n")
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "- %s\n", w)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

// Print writes the report for a terminal.
func (r *Report) Print(w io.Writer) error {
	if err := r.checkNames(); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%s\n", r.Title, strings.Repeat("=", len([]rune(r.Title))))
	for _, nt := range r.Tables {
		fmt.Fprintf(&b, "\n%s\n", nt.Title)
		if err := nt.Table.WriteText(&b); err != nil {
			return fmt.Errorf("table %s: %w", nt.Name, err)
		}
		if nt.Note != "" {
			b.WriteString(wrapText(nt.Note, table.TextWidth, ""))
		}
	}
	if len(r.Figures) > 0 {
		b.WriteString("\nFigures (PNG and SVG, written next to report.md):\n")
		for _, nf := range r.Figures {
			b.WriteString(wrapText(fmt.Sprintf("- %s.png, %s.svg: %s", nf.Name, nf.Name, nf.Title), table.TextWidth, "  "))
		}
	}
	if len(r.Warnings) == 0 {
		b.WriteString("\nWarnings: none.\n")
	} else {
		fmt.Fprintf(&b, "\nWarnings (%d):\n", len(r.Warnings))
		for _, w := range r.Warnings {
			b.WriteString(wrapText("- "+w, table.TextWidth, "  "))
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	return nil
}

// mdAltText keeps a title from ending an image's alt text early.
func mdAltText(s string) string {
	return strings.NewReplacer("[", "(", "]", ")").Replace(s)
}

// wrapText breaks s at spaces into lines of at most width runes (longer
// words stay whole), continuation lines starting with indent.
func wrapText(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		wl := len([]rune(word))
		switch {
		case i == 0:
		case n+1+wl > width:
			b.WriteString("\n" + indent)
			n = len([]rune(indent))
		default:
			b.WriteString(" ")
			n++
		}
		b.WriteString(word)
		n += wl
	}
	b.WriteString("\n")
	return b.String()
}

// PartialLineError is returned by ReadRecords, together with every complete
// record, when the file's last line is cut short: no newline and not valid
// JSON, which is what a run killed in the middle of an append leaves behind.
// Callers that accept this should report it as a warning (Exp1ReportFile
// does); it is an error value so that no caller can ignore it by accident.
type PartialLineError struct {
	Path string
	Line int // 1-based
	// Bytes is the length of the partial line, which is the end of the file:
	// truncating the file by Bytes removes it (the runner does so on resume).
	Bytes int
	Err   error // the JSON decoding error
}

func (e *PartialLineError) Error() string {
	return fmt.Sprintf("%s:%d: ignored partial last line (%d bytes, no trailing newline; interrupted run?): %v",
		e.Path, e.Line, e.Bytes, e.Err)
}

func (e *PartialLineError) Unwrap() error { return e.Err }

// ReadRecords reads a records.jsonl file. Blank lines are skipped. A line
// that does not decode is an error, except a partial last line: then the
// records before it are returned with a *PartialLineError.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	defer f.Close()
	// bufio.Reader rather than Scanner: a record with many findings can
	// exceed Scanner's line limit.
	br := bufio.NewReader(f)
	var recs []Record
	for lineNo := 1; ; lineNo++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("read records %s:%d: %w", path, lineNo, rerr)
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			var r Record
			if err := json.Unmarshal(trimmed, &r); err != nil {
				if rerr == io.EOF {
					return recs, &PartialLineError{Path: path, Line: lineNo, Bytes: len(line), Err: err}
				}
				return nil, fmt.Errorf("decode record %s:%d: %w", path, lineNo, err)
			}
			recs = append(recs, r)
		}
		if rerr == io.EOF {
			return recs, nil
		}
	}
}

// readRecordsWarn is ReadRecords with a partial last line turned into a
// warning, for report builders.
func readRecordsWarn(path string) ([]Record, []string, error) {
	recs, err := ReadRecords(path)
	var partial *PartialLineError
	if errors.As(err, &partial) {
		return recs, []string{partial.Error()}, nil
	}
	return recs, nil, err
}
