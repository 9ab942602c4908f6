package table

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// TextWidth is the terminal width WriteText aims for. Cells wrap at spaces to
// fit; a table whose unbreakable words are wider than this comes out wider.
const TextWidth = 80

// Align is a column's horizontal alignment in the text and Markdown views.
type Align int

const (
	Left Align = iota
	Right
)

// Column describes one column.
type Column struct {
	// Header is the human heading used in the text and Markdown views.
	Header string
	// Key is the CSV heading; empty means Header. It exists because good
	// human headings ("TPR [95% CI]") make awkward names in pandas or R.
	Key   string
	Align Align
	// CSVOnly hides the column from the text and Markdown views. Reports use
	// it to give CSV readers raw numbers (k, n, p, lo, hi) next to the one
	// formatted cell a human reads.
	CSVOnly bool
}

func (c Column) key() string {
	if c.Key != "" {
		return c.Key
	}
	return c.Header
}

// Table is a header plus rows of strings. Build it with New and Append, or
// fill the fields directly; the writers check that every row has one cell
// per column.
type Table struct {
	Columns []Column
	Rows    [][]string
}

// New returns an empty table with the given columns.
func New(cols ...Column) *Table {
	return &Table{Columns: cols}
}

// Append adds a row. It panics if the row does not have one cell per column:
// that is a bug in the code building the table, not something a caller can
// recover from.
func (t *Table) Append(cells ...string) {
	if len(cells) != len(t.Columns) {
		panic(fmt.Sprintf("table: row has %d cells, want %d", len(cells), len(t.Columns)))
	}
	t.Rows = append(t.Rows, cells)
}

func (t *Table) check() error {
	if len(t.Columns) == 0 {
		return fmt.Errorf("table has no columns")
	}
	for i, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("table row %d has %d cells, want %d", i, len(row), len(t.Columns))
		}
	}
	return nil
}

// visible returns the indices of the columns shown to humans.
func (t *Table) visible() []int {
	var idx []int
	for i, c := range t.Columns {
		if !c.CSVOnly {
			idx = append(idx, i)
		}
	}
	return idx
}

// WriteText renders the table for a terminal: box-drawn, wrapped at spaces
// to fit TextWidth where the words allow it, headers as written (tablewriter
// upper-cases them by default, which would turn "k/n" into "K/N").
func (t *Table) WriteText(w io.Writer) error {
	if err := t.check(); err != nil {
		return err
	}
	idx := t.visible()
	headers := make([]string, len(idx))
	aligns := make([]tw.Align, len(idx))
	for j, i := range idx {
		headers[j] = t.Columns[i].Header
		aligns[j] = tw.AlignLeft
		if t.Columns[i].Align == Right {
			aligns[j] = tw.AlignRight
		}
	}
	tbl := tablewriter.NewTable(w,
		tablewriter.WithMaxWidth(TextWidth),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNormal),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: aligns}),
	)
	if t.wraps(idx) {
		// Wrapped rows run into each other without a rule between them; short
		// tables stay compact.
		tbl.Options(tablewriter.WithRendition(tw.Rendition{Settings: tw.Settings{
			Separators: tw.Separators{BetweenRows: tw.On},
		}}))
	}
	tbl.Header(headers)
	for i, row := range t.Rows {
		cells := make([]string, len(idx))
		for j, c := range idx {
			cells[j] = row[c]
		}
		if err := tbl.Append(cells); err != nil {
			return fmt.Errorf("text table row %d: %w", i, err)
		}
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render text table: %w", err)
	}
	return nil
}

// wraps reports whether some row of the text view will take more than one
// line: a cell holds a newline, or the natural width exceeds TextWidth so
// tablewriter has to wrap.
func (t *Table) wraps(idx []int) bool {
	width := 1 // left border
	for _, i := range idx {
		w := twwidth.Width(t.Columns[i].Header)
		for _, row := range t.Rows {
			if strings.Contains(row[i], "\n") {
				return true
			}
			w = max(w, twwidth.Width(row[i]))
		}
		width += w + 3 // padding either side and a rule
	}
	return width > TextWidth
}

// WriteMarkdown renders a GitHub-flavoured Markdown table. Columns are padded
// so the source reads as a table too, which keeps diffs of committed results
// readable.
func (t *Table) WriteMarkdown(w io.Writer) error {
	if err := t.check(); err != nil {
		return err
	}
	idx := t.visible()
	rows := make([][]string, 0, len(t.Rows)+1)
	head := make([]string, len(idx))
	for j, i := range idx {
		head[j] = mdEscape(t.Columns[i].Header)
	}
	rows = append(rows, head)
	for _, row := range t.Rows {
		cells := make([]string, len(idx))
		for j, i := range idx {
			cells[j] = mdEscape(row[i])
		}
		rows = append(rows, cells)
	}
	widths := make([]int, len(idx))
	for _, row := range rows {
		for j, c := range row {
			widths[j] = max(widths[j], utf8.RuneCountInString(c), 3)
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for j, c := range cells {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			if t.Columns[idx[j]].Align == Right {
				fmt.Fprintf(&b, " %s%s |", pad, c)
			} else {
				fmt.Fprintf(&b, " %s%s |", c, pad)
			}
		}
		b.WriteString("\n")
	}
	line(rows[0])
	b.WriteString("|")
	for j, i := range idx {
		if t.Columns[i].Align == Right {
			fmt.Fprintf(&b, " %s: |", strings.Repeat("-", widths[j]-1))
		} else {
			fmt.Fprintf(&b, " %s |", strings.Repeat("-", widths[j]))
		}
	}
	b.WriteString("\n")
	for _, row := range rows[1:] {
		line(row)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write markdown table: %w", err)
	}
	return nil
}

// mdEscape keeps a cell on one table row: a bare "|" would end the cell and
// a newline would end the table.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, `|`, `\|`)
	s = strings.ReplaceAll(s, "\r\n", "<br>")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// WriteCSV writes every column, CSVOnly ones included, headed by the column
// keys.
func (t *Table) WriteCSV(w io.Writer) error {
	if err := t.check(); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c.key()
	}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return fmt.Errorf("write csv rows: %w", err)
	}
	return nil
}
