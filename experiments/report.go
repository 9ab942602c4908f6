package experiments

import (
	"bytes"
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

// warnf adds a warning to the report.
func (r *Report) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
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

// PrintSummary writes the report's title, its per-detector summary (the
// table named "summary", else the first) and its warnings as a count with
// the first one, for a terminal after a run.
func (r *Report) PrintSummary(w io.Writer) error {
	if err := r.checkNames(); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n", r.Title)
	if len(r.Tables) > 0 {
		t := r.Tables[0]
		for _, nt := range r.Tables {
			if nt.Name == "summary" {
				t = nt
				break
			}
		}
		if err := t.Table.WriteText(&b); err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	switch len(r.Warnings) {
	case 0:
		b.WriteString("Warnings: none.\n")
	case 1:
		b.WriteString(wrapText("Warning: "+r.Warnings[0], table.TextWidth, "  "))
	default:
		b.WriteString(wrapText(fmt.Sprintf("Warnings: %d, first: %s", len(r.Warnings), r.Warnings[0]), table.TextWidth, "  "))
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
