package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/mutations"
)

func init() {
	register("report", command{
		summary: "derive tables (terminal, Markdown, CSV) and figures (PNG, SVG) from an experiment's committed records",
		run:     runReport,
	})
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", "exp1|exp2|exp3|benign", stderr)
	results := fs.String("results", "results", "results dir holding <exp>/records.jsonl")
	quiet := fs.Bool("quiet", false, "write the files only, print nothing")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("name one experiment (exp1, exp2, exp3, benign)")
	}
	dir := filepath.Join(*results, pos[0])
	var rep *experiments.Report
	switch pos[0] {
	case experiments.Exp1:
		rep, err = experiments.Exp1ReportFile(filepath.Join(dir, "records.jsonl"))
	case experiments.Exp2:
		var names []string
		for _, m := range mutations.OfKind(mutations.LayerKinds...) {
			names = append(names, m.Name())
		}
		rep, err = experiments.Exp2ReportFile(filepath.Join(dir, "records.jsonl"), experiments.WithMutations(names))
	case experiments.Exp3:
		rep, err = experiments.Exp3ReportDir(dir)
	case experiments.Benign:
		rep, err = experiments.BenignReportFile(filepath.Join(dir, "records.jsonl"))
	default:
		return fmt.Errorf("no report for %q (known: exp1, exp2, exp3, benign)", pos[0])
	}
	if err != nil {
		return err
	}
	if err := rep.WriteDir(dir); err != nil {
		return err
	}
	if !*quiet {
		if err := rep.Print(stdout); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: wrote %s/report.md and CSV tables\n", dir)
	}
	return nil
}
