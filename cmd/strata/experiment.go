package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/strata-sec/strata/experiments"
)

func init() {
	register("experiment", command{
		summary: "build an experiment's images with BuildKit, scan them with every detector, append records (exp1, exp2, exp3, benign)",
		run:     runExperiment,
	})
}

func experimentFlags(fs *flag.FlagSet, cfg *experiments.Config) (cases, benignImages *string) {
	fs.StringVar(&cfg.CacheDir, "cache", "", "cache dir for store, BuildKit state and packages (default: user cache dir/strata)")
	fs.StringVar(&cfg.StoreDir, "store", "", "OCI layout store (default: <cache>/store)")
	fs.StringVar(&cfg.BuildkitAddr, "buildkit-addr", "", "use this running buildkitd (e.g. unix:///run/buildkit/buildkitd.sock) instead of a private one")
	fs.StringVar(&cfg.ResultsDir, "results", "results", "results dir; records go to <results>/<exp>/records.jsonl")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed for every random choice")
	fs.BoolVar(&cfg.BuildTime, "build-time", false, "keep build-time timestamps (no SOURCE_DATE_EPOCH): digests change on every build")
	fs.StringVar(&cfg.ServeAddr, "serve-addr", "", "loopback address of the harness file server (default 127.0.0.1:18473; part of every digest)")
	fs.BoolVar(&cfg.Fresh, "fresh", false, "discard the experiment's earlier records instead of resuming")
	fs.BoolVar(&cfg.BuildOnly, "build-only", false, "build the images into the store, scan nothing")
	cases = fs.String("cases", "", "exp2, exp3: only these cases, comma-separated bits (e.g. 000,111); default all 8")
	benignImages = fs.String("benign", "", "exp3: only these benign corpus images as controls, comma-separated names (\"none\" for none); default all")
	fs.IntVar(&cfg.Samples, "samples", 0, "exp2, exp3: seeds per (case, type); default 5, the paper's")
	fs.IntVar(&experiments.Concurrency, "jobs", experiments.Concurrency, "concurrent builds and scans")
	return cases, benignImages
}

func runExperiment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("experiment", "exp1|exp2|exp3|benign", stderr)
	var cfg experiments.Config
	cases, benignImages := experimentFlags(fs, &cfg)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("name one experiment (exp1, exp2, exp3, benign)")
	}
	cfg.Log = stderr
	if *cases != "" {
		cfg.Cases = strings.Split(*cases, ",")
	}
	if *benignImages != "" {
		cfg.Benign = strings.Split(*benignImages, ",")
	}
	switch pos[0] {
	case experiments.Exp1:
		return experiments.RunExp1(ctx, cfg)
	case experiments.Exp2:
		return experiments.RunExp2(ctx, cfg)
	case experiments.Exp3:
		return experiments.RunExp3(ctx, cfg)
	case experiments.Benign:
		return experiments.RunBenign(ctx, cfg)
	default:
		return fmt.Errorf("unknown experiment %q (known: exp1, exp2, exp3, benign)", pos[0])
	}
}
