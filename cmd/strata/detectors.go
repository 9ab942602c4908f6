package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/strata-sec/strata/experiments"
)

func init() {
	register("detectors", command{
		summary: "list the detectors the experiments run (name, version, what it does, the paper system it models)",
		run:     runDetectors,
	})
}

func runDetectors(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("detectors", "", stderr)
	width := fs.Int("width", 0, "wrap at this many columns (default: the terminal's, else $COLUMNS, else 80)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	w := *width
	if w <= 0 {
		w = terminalWidth(stdout)
	}
	all := experiments.Catalog()
	nameW := 0
	for _, d := range all {
		nameW = max(nameW, len(d.Name))
	}
	var b strings.Builder
	for _, d := range all {
		fmt.Fprintf(&b, "%-*s  v%s  models %s\n", nameW, d.Name, d.Version, d.Models)
		b.WriteString(wrap(d.Description, w, "    "))
	}
	_, err := io.WriteString(stdout, b.String())
	return err
}
