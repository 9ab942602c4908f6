package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/experiments/bench"
)

func init() {
	register("bench", command{
		summary: "time the walker floor, the hierarchical detector (cold and warm cache) and clamscan/yara on the same images; --builds: experiment 2's builds, cold and warm; --peers: strata next to clamscan, yara, malcontent and trivy (wall time, peak RSS); `bench gate`: the registry gate's scans/minute with 1 and 2 workers",
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
	dyn := fs.Bool("dynamic", false, "also time the behaviour stage: one sandbox run of the start command with none of its layers stored and one with them stored (root, runc)")
	dynTimeout := fs.Duration("dynamic-timeout", experiments.DynamicTimeout, "the sandbox's time limit for --dynamic (the experiments' default)")
	flatten := fs.Bool("flatten", false, "also bench the first image's final filesystem as one layer (the single-big-layer shape), next to the one-core cold scan every image gets")
	reg := fs.Bool("registry", false, "also push each image to a loopback registry and time a fetch of its blobs (go-containerregistry) against a cold strata scan of it, at the same concurrency")
	regLink := fs.Float64("registry-link", bench.DefaultRegistryLink/1e6, "with --registry: also time both over a link of this many MB/s shared by the connections, as in front of a real registry (0: only at loopback speed)")
	peers := fs.Bool("peers", false, "instead: strata scan (cold, warm) side by side with clamscan, yara with public rule sets, malcontent and trivy on the same images, wall time and peak RSS; writes peers.md and peers.json (make bench-peers)")
	peersDir := fs.String("peers-dir", "bin/peers", "with --peers: where make bench-peers puts the peers (trivy; a malcontent built by hand as mal); PATH is searched next")
	clamDB := fs.String("clamav-db", bench.DefaultClamDB, "with --peers: the ClamAV database directory clamscan uses")
	var rules []bench.RuleSet
	fs.Func("yara-rules", "with --peers: a public YARA rule set as NAME=DIR (or NAME=FILE), repeatable; one yara row each", func(v string) error {
		name, dir, ok := strings.Cut(v, "=")
		if !ok || name == "" || dir == "" {
			return fmt.Errorf("want NAME=DIR, e.g. malcontent=bin/peers/rules/malcontent-v1.7.1")
		}
		rules = append(rules, bench.RuleSet{Name: name, Path: dir})
		return nil
	})
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
	if *peers && *builds {
		return fmt.Errorf("--peers and --builds are separate runs: drop one")
	}
	if *peers {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the strata binary to time: %w", err)
		}
		_, err = bench.RunPeers(ctx, bench.PeersConfig{Refs: pos, Count: *count, Out: *out, Platform: *platform, Strata: self,
			PeersDir: *peersDir, YaraRules: rules, ClamDB: *clamDB, Stdout: stdout, Stderr: stderr})
		return err
	}
	_, err = bench.Run(ctx, bench.Config{Refs: pos, Count: *count, Out: *out, Engines: *engines, Platform: *platform, Builds: *builds, Registry: *reg, RegistryLink: *regLink * 1e6, Flatten: *flatten, Dynamic: *dyn, DynamicTimeout: *dynTimeout, Stdout: stdout, Stderr: stderr})
	return err
}
