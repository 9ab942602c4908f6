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
		summary: "build an experiment's images with BuildKit, scan them with every detector, record a run under runs/ (" + strings.Join(experiments.Names(), ", ") + ")",
		run:     runExperiment,
	})
}

// sliceFlags adds the slice flags every experiment command shares.
func sliceFlags(fs *flag.FlagSet, s *experiments.Slice) (apply func()) {
	lists := map[string]*string{}
	for _, f := range []struct{ name, usage string }{
		{experiments.FlagTypes, "only these mutation types, comma-separated (see `strata mutations`)"},
		{experiments.FlagDetectors, "only these detectors, comma-separated (a name keeps its variants: hierarchical keeps the ablation's); behaviour and hierarchical+dynamic run the sandbox (up to 20 s per image) and only when named"},
		{experiments.FlagCases, "only these layer-presence cases, comma-separated bits (e.g. 000,111); default all 8"},
		{experiments.FlagBenign, "only these benign corpus images, comma-separated names (\"none\" for none); default all"},
		{experiments.FlagSubjects, "wild: only these subjects, comma-separated names (corpus/wild/README.md)"},
		{experiments.FlagEcosystem, "census: only these ecosystems, comma-separated (debian, python, npm, ordinary)"},
	} {
		lists[f.name] = fs.String(f.name, "", f.usage)
	}
	fs.StringVar(&s.Split, experiments.FlagSplit, "", "wild: only dev, test, test2 or test3 (corpus/wild/split*.json); census: dev or test (corpus/census); rules are tuned on dev only")
	fs.IntVar(&s.Limit, experiments.FlagLimit, 0, "census: an ecosystem-proportional prefix of this many images of the draw (corpus/census/README.md); default all")
	fs.IntVar(&s.Samples, experiments.FlagSamples, 0, fmt.Sprintf("seeds per (subject, type); default %d, the paper's", experiments.SamplesPerType))
	return func() {
		split := func(name string) []string {
			if *lists[name] == "" {
				return nil
			}
			return strings.Split(*lists[name], ",")
		}
		s.Types, s.Detectors, s.Cases, s.Benign = split(experiments.FlagTypes), split(experiments.FlagDetectors), split(experiments.FlagCases), split(experiments.FlagBenign)
		s.Subjects = split(experiments.FlagSubjects)
		s.Ecosystems = split(experiments.FlagEcosystem)
	}
}

func runExperiment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("experiment", strings.Join(experiments.Names(), "|"), stderr)
	var cfg experiments.Config
	fs.StringVar(&cfg.CacheDir, "state-dir", "", "harness state: store, BuildKit state, fetched packages, scan caches (default: user cache dir/strata)")
	fs.StringVar(&cfg.StoreDir, "store", "", "OCI layout store (default: <state-dir>/store)")
	fs.StringVar(&cfg.BuildkitAddr, "buildkit-addr", "", "use this running buildkitd (e.g. unix:///run/buildkit/buildkitd.sock) instead of a private one")
	fs.StringVar(&cfg.RunsDir, "runs", "runs", "each run writes a directory of its own under this dir")
	fs.StringVar(&cfg.ResultsDir, "results", "", "write <results>/<exp> instead of a new run (resumes there); `--results results` rewrites the committed reference: prefer `strata promote`")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed for every random choice")
	fs.BoolVar(&cfg.BuildTime, "build-time", false, "keep build-time timestamps (no SOURCE_DATE_EPOCH): digests change on every build")
	fs.StringVar(&cfg.ServeAddr, "serve-addr", "", "loopback address of the harness file server (default 127.0.0.1:18473; part of every digest)")
	fs.BoolVar(&cfg.Fresh, "fresh", false, "with --results: discard the earlier records there instead of resuming")
	fs.BoolVar(&cfg.BuildOnly, "build-only", false, "build the images into the store, scan nothing")
	fs.IntVar(&cfg.Jobs, "jobs", experiments.DefaultJobs, "concurrent builds and scans")
	fs.BoolVar(&cfg.Verbose, "v", false, "one line per image and record instead of one per phase")
	fs.BoolVar(&cfg.Dynamic, "dynamic", false, "also run the sandbox detectors behaviour and hierarchical+dynamic on every image (a whole run, unlike --detectors; root and runc; up to --dynamic-timeout per image)")
	fs.DurationVar(&experiments.DynamicTimeout, "dynamic-timeout", experiments.DynamicTimeout, "time limit of each sandbox run of the opt-in behaviour and hierarchical+dynamic detectors")
	applySlice := sliceFlags(fs, &cfg.Slice)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("name one experiment (%s)", strings.Join(experiments.Names(), ", "))
	}
	applySlice()
	cfg.Log = stderr
	res, err := experiments.Run(ctx, pos[0], cfg)
	if err != nil {
		return err
	}
	if res.Dir == "" { // --build-only
		return nil
	}
	return printSummary(stdout, stderr, res.Report, res.Dir)
}
