package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strata-sec/strata/corpus/census"
)

func init() {
	register("census", command{
		summary: "make the census lists: draw (Debian and Python from apt's index) or pin (npm, from the pinned ranking)",
		run:     runCensus,
	})
}

func runCensus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("census", "draw | pin", stderr)
	out := fs.String("out", "corpus/census", "directory the lists are written to")
	index := fs.String("index", "", "draw: a Packages-format index file (default: the output of apt-cache dumpavail)")
	work := fs.String("work", "", "pin: npm working directory (default: a temp dir, removed afterwards)")
	top := fs.Int("top", census.NPMTop, "pin: how many names of the ranking to pin")
	seed := fs.Int64("seed", census.Seed, "seed of the draw and the split")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("say draw or pin")
	}
	switch pos[0] {
	case "draw":
		return censusDraw(ctx, *index, *out, *seed, stdout)
	case "pin":
		return censusPin(ctx, *work, *out, *top, *seed, stdout, stderr)
	}
	return fmt.Errorf("unknown census action %q (draw or pin)", pos[0])
}

func censusDraw(ctx context.Context, index, out string, seed int64, stdout io.Writer) error {
	var src []byte
	var err error
	if index != "" {
		src, err = os.ReadFile(index)
	} else {
		src, err = exec.CommandContext(ctx, "apt-cache", "dumpavail").Output()
		if err != nil {
			err = fmt.Errorf("apt-cache dumpavail (run apt-get update first?): %w", err)
		}
	}
	if err != nil {
		return err
	}
	pkgs, err := census.ParseIndex(bytes.NewReader(src))
	if err != nil {
		return err
	}
	deb, py, st := census.Draw(seed, pkgs)
	for _, l := range []struct {
		file, eco string
		es        []census.Entry
	}{{census.DebianFile, census.Debian, deb}, {census.PythonFile, census.Python, py}} {
		if err := writeList(filepath.Join(out, l.file), l.eco, l.es); err != nil {
			return err
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "index: %d packages (distinct names), sha256 %x\n", st.Index, sha256.Sum256(src))
	reasons := make([]string, 0, len(st.Excluded))
	for r := range st.Excluded {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&sb, "excluded: %s: %d\n", r, st.Excluded[r])
	}
	fmt.Fprintf(&sb, "eligible: %d Debian, %d python3-*\n", st.Eligible, st.EligiblePy)
	fmt.Fprintf(&sb, "ranked: %d by Priority, %d more among the top %d by reverse dependencies\n", st.Priority, st.ReverseTop, census.TopReverseDeps)
	fmt.Fprintf(&sb, "lists: %d Debian (%d drawn), %d Python\n", len(deb), len(deb)-st.Priority-st.ReverseTop, len(py))
	if err := os.WriteFile(filepath.Join(out, "draw.txt"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	_, err = io.WriteString(stdout, sb.String())
	return err
}

func censusPin(ctx context.Context, work, out string, top int, seed int64, stdout, stderr io.Writer) error {
	if work == "" {
		d, err := os.MkdirTemp("", "strata-census-pin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	names, err := census.Ranking(ctx, filepath.Join(work, "ranking"))
	if err != nil {
		return err
	}
	if top > len(names) {
		top = len(names)
	}
	pinned, skipped, err := census.Pin(ctx, work, names[:top], 40, stderr)
	if err != nil {
		return err
	}
	census.AssignSplit(seed, pinned)
	if err := writeList(filepath.Join(out, census.NPMFile), census.NPM, pinned); err != nil {
		return err
	}
	var sb strings.Builder
	sb.WriteString("# rank\tname\treason\n")
	for _, s := range skipped {
		fmt.Fprintf(&sb, "%d\t%s\t%s\n", s.Rank, s.Name, strings.ReplaceAll(s.Reason, "\t", " "))
	}
	if err := os.WriteFile(filepath.Join(out, census.NPMSkippedFile), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pinned %d of the top %d of %s@%s %s; skipped %d\n", len(pinned), top, census.RankingPackage, census.RankingVersion, census.RankingExport, len(skipped))
	return nil
}

func writeList(path, eco string, es []census.Entry) error {
	var b bytes.Buffer
	if err := census.WriteList(&b, eco, es); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
