package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/table"
	"github.com/strata-sec/strata/mutations"
)

// Builds times experiment 2's builds (--build-only) in a private cache:
// cold from an empty cache (debootstrap, packages, web-app image and every
// BuildKit build), then warm on the same cache (everything found in the
// store by its inputs).
type Builds struct {
	Images int   `json:"images"`
	ColdNS int64 `json:"cold_ns"`
	WarmNS int64 `json:"warm_ns"`
}

const (
	buildColdTarget = 40.0            // images per minute, cold
	buildWarmTarget = 2 * time.Minute // warm experiment 2
)

func runBuilds(ctx context.Context, stderr io.Writer) (*Builds, error) {
	dir, err := os.MkdirTemp("", "strata-bench-builds-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := experiments.Config{
		CacheDir: dir, ResultsDir: filepath.Join(dir, "results"), Seed: 1,
		// Its own port, so a bench can run beside an experiment.
		ServeAddr: "127.0.0.1:18476", BuildOnly: true, Log: io.Discard,
	}
	b := &Builds{Images: len(drupal.Cases()) * (1 + len(mutations.OfKind(mutations.LayerKinds...))*experiments.SamplesPerType)}
	fmt.Fprintf(stderr, "bench: building experiment 2 from an empty cache (%d images)\n", b.Images)
	if b.ColdNS, err = timeIt(func() error { _, err := experiments.Run(ctx, experiments.Exp2, cfg); return err }); err != nil {
		return nil, fmt.Errorf("cold build: %w", err)
	}
	fmt.Fprintf(stderr, "bench: building experiment 2 again on the same cache\n")
	if b.WarmNS, err = timeIt(func() error { _, err := experiments.Run(ctx, experiments.Exp2, cfg); return err }); err != nil {
		return nil, fmt.Errorf("warm build: %w", err)
	}
	return b, nil
}

func (b *Builds) perMinute(ns int64) float64 {
	return float64(b.Images) / (float64(ns) / float64(time.Minute))
}

func buildsTable(b *Builds) *table.Table {
	t := table.New(
		table.Column{Header: "builds", Key: "builds"},
		table.Column{Header: "images", Key: "images", Align: table.Right},
		table.Column{Header: "wall time", Key: "wall_time", Align: table.Right},
		table.Column{Header: "images/min", Key: "images_per_min", Align: table.Right},
	)
	t.Append("exp2 cold (empty cache)", fmt.Sprint(b.Images), fmtDur(b.ColdNS), fmt.Sprintf("%.0f", b.perMinute(b.ColdNS)))
	t.Append("exp2 warm (all in store)", fmt.Sprint(b.Images), fmtDur(b.WarmNS), fmt.Sprintf("%.0f", b.perMinute(b.WarmNS)))
	return t
}

func buildVerdicts(b *Builds) []string {
	pass := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	cold := b.perMinute(b.ColdNS)
	return []string{
		fmt.Sprintf("%s exp2 cold build: %.0f images/min including preparation (target >= %.0f)", pass(cold >= buildColdTarget), cold, buildColdTarget),
		fmt.Sprintf("%s exp2 with every image in the store: %s (target < %s)", pass(time.Duration(b.WarmNS) < buildWarmTarget), fmtDur(b.WarmNS), buildWarmTarget),
	}
}
