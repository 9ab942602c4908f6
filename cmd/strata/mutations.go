package main

import (
	"context"
	"fmt"
	"io"

	"github.com/strata-sec/strata/internal/table"
	"github.com/strata-sec/strata/mutations"
)

func init() {
	register("mutations", command{
		summary: "list the registered mutation types (name, version, kind, paper reference)",
		run:     runMutations,
	})
}

func runMutations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("mutations", "", stderr)
	md := fs.Bool("markdown", false, "print a Markdown table")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	t := table.New(
		table.Column{Header: "name", Key: "name"},
		table.Column{Header: "version", Key: "version"},
		table.Column{Header: "kind", Key: "kind"},
		table.Column{Header: "paper", Key: "paper"},
		table.Column{Header: "description", Key: "description"},
	)
	for _, m := range mutations.All() {
		t.Append(m.Name(), m.Version(), string(mutations.KindOf(m)), m.PaperRef(), m.Description())
	}
	if *md {
		return t.WriteMarkdown(stdout)
	}
	if err := t.WriteText(stdout); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "%d types\n", len(mutations.All()))
	return err
}
