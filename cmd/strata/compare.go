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
	register("compare", command{
		summary: "compare a run with the committed reference (decisions, scores, blamed layers); exit 1 when it did not reproduce",
		run:     runCompare,
	})
	register("promote", command{
		summary: "make a whole-experiment run the committed reference in results/ (records, signatures, manifest, report); --merge adds a --detectors slice to it",
		run:     runPromote,
	})
}

// resolveRun turns a run argument into a run directory: a directory as
// given, or an experiment name for its newest run under runsDir.
func resolveRun(arg, runsDir string) (string, error) {
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		return arg, nil
	}
	if _, err := experiments.Get(arg); err != nil {
		return "", fmt.Errorf("%q is neither a run directory nor an experiment (%s)", arg, strings.Join(experiments.Names(), ", "))
	}
	return experiments.LatestRun(runsDir, arg)
}

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "RUN [REF]", stderr)
	runsDir := fs.String("runs", "runs", "where runs are (RUN may be an experiment name: its newest run there)")
	results := fs.String("results", "results", "the committed reference; REF defaults to <results>/<experiment>")
	verbose := fs.Bool("v", false, "list every disagreement, not the first 20")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		fs.Usage()
		return fmt.Errorf("name a run (a directory under %s, or an experiment for its newest run) and optionally a reference", *runsDir)
	}
	var c *experiments.Comparison
	for i, arg := range pos {
		dir, err := resolveRun(arg, *runsDir)
		if err != nil {
			return err
		}
		pos[i] = dir
	}
	if len(pos) == 1 {
		man, err := experiments.ReadManifest(pos[0])
		if err != nil {
			return fmt.Errorf("%s is not a run: %w", pos[0], err)
		}
		pos = append(pos, filepath.Join(*results, man.Experiment))
	}
	if c, err = experiments.CompareDirs(pos[0], pos[1]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compare %s with %s\n", pos[0], pos[1])
	limit := 20
	if *verbose {
		limit = 0
	}
	if err := c.WriteVerdict(stdout, limit); err != nil {
		return err
	}
	if !c.Reproduced() {
		return exitError{code: 1, msg: fmt.Sprintf("%s did not reproduce %s", pos[0], pos[1])}
	}
	return nil
}

func runPromote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("promote", "RUN", stderr)
	runsDir := fs.String("runs", "runs", "where runs are (RUN may be an experiment name: its newest run there)")
	results := fs.String("results", "results", "the committed reference the run replaces")
	merge := fs.Bool("merge", false, "RUN is a --detectors slice: replace only those detectors' records in the reference (same images, same digests) and keep every other record")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("name one run")
	}
	dir, err := resolveRun(pos[0], *runsDir)
	if err != nil {
		return err
	}
	promote := experiments.Promote
	if *merge {
		promote = experiments.PromoteDetectors
	}
	dst, err := promote(dir, *results)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "promote: %s is now the reference in %s; review with `git diff %s` and commit\n", dir, dst, dst)
	return nil
}
