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
	prefix := fs.String("prefix", "exp2/", "push the store's images whose names start with this")
	n := fs.Int("n", 200, "images to push")
	workers := fs.String("workers", "1,2", "worker process counts to run, comma-separated")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up on a run whose verdicts are not all in by then")
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
	if *n < 1 {
		return fmt.Errorf("--n must be at least 1")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the strata binary for the workers: %w", err)
	}
	det := hierarchical.New()
	_, err = gatebench.Run(ctx, gatebench.Config{Store: *storeDir, Prefix: *prefix, N: *n, Workers: ws, Exe: exe,
		RegistryBin: gatebench.RegistryBinary, Detector: gate.DetectorID(det.Name(), det.Version()), Timeout: *timeout,
		Out: *out, Stdout: stdout, Stderr: stderr})
	return err
}
