package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sec/strata/experiments"
)

func init() {
	register("report", command{
		summary: "derive tables (terminal, Markdown, CSV) and figures (PNG, SVG) from the records of a run or of the committed reference; `report headline` summarises every experiment",
		run:     runReport,
	})
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", strings.Join(experiments.Names(), "|")+"|RUN-DIR|"+headlineArg, stderr)
	results := fs.String("results", "results", "results dir holding <exp>/records.jsonl (used when the argument is an experiment name)")
	quiet := fs.Bool("quiet", false, "write the files only, print nothing")
	full := fs.Bool("full", false, "print every table, not only the summary")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("name one experiment (%s), a run directory or %s", strings.Join(experiments.Names(), ", "), headlineArg)
	}
	if pos[0] == headlineArg {
		return runHeadline(*results, *quiet, stdout, stderr)
	}
	name, dir, err := reportTarget(pos[0], *results)
	if err != nil {
		return err
	}
	rep, err := experiments.ReportDir(name, dir)
	if err != nil {
		return err
	}
	if err := rep.WriteDir(dir); err != nil {
		return err
	}
	if *quiet {
		return nil
	}
	if *full {
		if err := rep.Print(stdout); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: wrote %s\n", filepath.Join(dir, experiments.ReportMarkdown))
		return nil
	}
	return printSummary(stdout, stderr, rep, dir)
}

// headlineArg names the cross-experiment headline report in place of an
// experiment.
const headlineArg = "headline"

// runHeadline writes the headline report of the results dir into it.
func runHeadline(results string, quiet bool, stdout, stderr io.Writer) error {
	h, err := experiments.HeadlineReport(results)
	if err != nil {
		return err
	}
	if err := h.WriteFiles(results); err != nil {
		return err
	}
	if quiet {
		return nil
	}
	if err := h.Report.Print(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: wrote %s and %s\n", filepath.Join(results, experiments.HeadlineMarkdown), filepath.Join(results, experiments.HeadlineCSV))
	return nil
}

// reportTarget resolves a report argument: an experiment name means
// <results>/<name>; a directory with a run manifest is a run.
func reportTarget(arg, results string) (name, dir string, err error) {
	if _, err := experiments.Get(arg); err == nil {
		return arg, filepath.Join(results, arg), nil
	}
	if fi, serr := os.Stat(arg); serr == nil && fi.IsDir() {
		man, err := experiments.ReadManifest(arg)
		if err != nil {
			return "", "", fmt.Errorf("%s is not a run directory (no readable %s): %w", arg, experiments.ManifestFile, err)
		}
		return man.Experiment, arg, nil
	}
	return "", "", fmt.Errorf("%q is neither an experiment (%s) nor a run directory", arg, strings.Join(experiments.Names(), ", "))
}

// printSummary prints a report's first table (the per-detector summary),
// the number of warnings and where the files went.
func printSummary(stdout, stderr io.Writer, rep *experiments.Report, dir string) error {
	if err := rep.PrintSummary(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: %d tables, %d figures in %s (full report: %s)\n",
		len(rep.Tables), len(rep.Figures), dir, filepath.Join(dir, experiments.ReportMarkdown))
	return nil
}
