package main

import (
	"context"
	"fmt"
	"io"

	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/experiments/bench"
)

func init() {
	register("bench", command{
		summary: "time the walker floor, the hierarchical detector (cold and warm cache) and clamscan/yara on the same images; --builds: experiment 2's builds, cold and warm; `bench gate`: the registry gate's scans/minute with 1 and 2 workers",
		run:     runBench,
	})
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "gate" {
		return runBenchGate(ctx, args[1:], stdout, stderr)
	}
	fs := newFlags("bench", "REF...", stderr)
	count := fs.Int("count", 3, "repetitions of each measurement; the median is reported")
	out := fs.String("out", "", "write bench.md, bench.json and machine.md to this directory")
	engines := fs.Bool("engines", true, "also time clamscan and yara (multiengine, signatures learned from the image's last layer)")
	platform := fs.String("platform", "", "bench only this platform of a multi-platform image: os/arch[/variant]")
	builds := fs.Bool("builds", false, "also time experiment 2's 408 BuildKit builds, cold (empty private cache) and warm (a few minutes)")
	dyn := fs.Bool("dynamic", false, "also time the behaviour stage: one sandbox run of the start command with an empty layer store and one with the layers stored (root, runc)")
	dynTimeout := fs.Duration("dynamic-timeout", experiments.DynamicTimeout, "the sandbox's time limit for --dynamic (the experiments' default)")
	reg := fs.Bool("registry", false, "also push each image to a loopback registry and time a fetch of its blobs (go-containerregistry) against a cold strata scan of it, at the same concurrency")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 && !*builds {
		fs.Usage()
		return fmt.Errorf("name at least one image, e.g. strata bench ~/.cache/strata/store:exp1/case-111")
	}
	if *count < 1 {
		return fmt.Errorf("--count must be at least 1")
	}
	_, err = bench.Run(ctx, bench.Config{Refs: pos, Count: *count, Out: *out, Engines: *engines, Platform: *platform, Builds: *builds, Registry: *reg, Dynamic: *dyn, DynamicTimeout: *dynTimeout, Stdout: stdout, Stderr: stderr})
	return err
}
