package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/strata-sec/strata/internal/table"
	"github.com/strata-sec/strata/mutations"
)

func init() {
	register("mutations", command{
		summary: "list the registered mutation types (name, version, kind, paper reference, description)",
		run:     runMutations,
	})
}

func runMutations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("mutations", "", stderr)
	md := fs.Bool("markdown", false, "print a Markdown table")
	width := fs.Int("width", 0, "wrap at this many columns (default: the terminal's, else $COLUMNS, else 80)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	all := mutations.All()
	if *md {
		t := table.New(
			table.Column{Header: "name", Key: "name"},
			table.Column{Header: "version", Key: "version"},
			table.Column{Header: "kind", Key: "kind"},
			table.Column{Header: "paper", Key: "paper"},
			table.Column{Header: "description", Key: "description"},
		)
		for _, m := range all {
			t.Append(m.Name(), m.Version(), string(mutations.KindOf(m)), m.PaperRef(), m.Description())
		}
		return t.WriteMarkdown(stdout)
	}
	w := *width
	if w <= 0 {
		w = terminalWidth(stdout)
	}
	// One heading line per type (name, version, kind), then the paper
	// reference and the description wrapped under it: readable at any
	// width, where a five-column table wraps every cell into a column of
	// single words.
	nameW := 0
	for _, m := range all {
		nameW = max(nameW, len(m.Name()))
	}
	var b strings.Builder
	for _, m := range all {
		fmt.Fprintf(&b, "%-*s  v%s  %s\n", nameW, m.Name(), m.Version(), string(mutations.KindOf(m)))
		if ref := m.PaperRef(); ref != "" {
			b.WriteString(wrap("paper: "+ref, w, "    "))
		}
		b.WriteString(wrap(m.Description(), w, "    "))
	}
	fmt.Fprintf(&b, "%d types (`strata mutations --markdown` for a table)\n", len(all))
	_, err := io.WriteString(stdout, b.String())
	return err
}

// terminalWidth is w's terminal width, else $COLUMNS, else 80; at least 40.
func terminalWidth(w io.Writer) int {
	width := 80
	if f, ok := w.(*os.File); ok {
		if tw, _, err := term.GetSize(int(f.Fd())); err == nil && tw > 0 {
			width = tw
		}
	} else if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		width = c
	}
	return max(width, 40)
}

// wrap breaks s at spaces into lines of at most width runes, each starting
// with indent (a longer word stays whole).
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(s) {
		if line != indent && len([]rune(line))+1+len([]rune(word)) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}
