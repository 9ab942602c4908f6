package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/gate"
	"github.com/strata-sec/strata/gate/gatebench"
)

// runBenchGate is `strata bench gate`: the registry gate's load figures.
func runBenchGate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "gate", stderr)
	cache, _ := os.UserCacheDir()
	storeDir := fs.String("store", filepath.Join(cache, "strata", "store"), "the experiment store to take images from")
	prefix := fs.String("prefix", "exp2/,exp3/,benign/", "take the store's images whose names start with these, comma-separated, in this order, skipping manifests already taken")
	n := fs.Int("n", 200, "distinct image manifests to push")
	workers := fs.String("workers", "1,2", "worker process counts to run, comma-separated")
	repeat := fs.Int("repeat", 3, "runs per worker count, each on a fresh gate; the table reports median and min–max")
	kill := fs.Bool("kill", false, "add a run with 2 workers in which one worker is killed with SIGKILL mid-scan, and report lost, duplicated and redelivered verdicts")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up on a run whose verdicts are not all in by then (the missing ones count as lost)")
	out := fs.String("out", "", "write gate.md and gate.json to this directory (e.g. results/perf)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("bench gate takes no images (it pushes --n from --store), got %q", pos)
	}
	var ws []int
	for _, f := range strings.Split(*workers, ",") {
		w, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || w < 1 {
			return fmt.Errorf("--workers %q: want positive counts, e.g. 1,2", *workers)
		}
		ws = append(ws, w)
	}
	if *n < 1 || *repeat < 1 {
		return fmt.Errorf("--n and --repeat must be at least 1")
	}
	var prefixes []string
	for _, p := range strings.Split(*prefix, ",") {
		if p = strings.TrimSpace(p); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the strata binary for the workers: %w", err)
	}
	det := hierarchical.New()
	_, err = gatebench.Run(ctx, gatebench.Config{Store: *storeDir, Prefixes: prefixes, N: *n, Workers: ws, Repeat: *repeat, Kill: *kill, Exe: exe,
		RegistryBin: gatebench.RegistryBinary, Detector: gate.DetectorID(det.Name(), det.Version()), Timeout: *timeout,
		Out: *out, Stdout: stdout, Stderr: stderr})
	return err
}
