package experiments

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/strata-sec/strata/corpus/drupal"
)

// Exp1 is the paper's experiment 1: the 8 layer-presence cases of the
// drupal sample (layers 8, 9, 10 each present or absent), one image each,
// scanned by every detector.
const Exp1 = "exp1"

// RunExp1 builds the 8 cases, learns the signature baselines from the first
// sighting (case 111, the full unmutated sample) and appends one record per
// (image, detector) to <results>/exp1/records.jsonl.
func RunExp1(ctx context.Context, cfg Config) error {
	env, err := Prepare(ctx, cfg)
	if err != nil {
		return err
	}
	defer env.Close()
	cfg = env.Config
	built, err := env.BuildCases(ctx)
	if err != nil {
		return err
	}
	cases := drupal.Cases()

	resDir := filepath.Join(cfg.ResultsDir, Exp1)
	set, err := Detectors(ctx, cfg, built["111"], resDir)
	if err != nil {
		return err
	}
	defer set.Close()
	dets := set.Detectors
	ordered := make([]Built, 0, len(cases))
	for _, c := range cases {
		ordered = append(ordered, built[c.Bits()])
	}
	return scanAll(ctx, cfg, Exp1, ordered, dets, filepath.Join(resDir, "records.jsonl"))
}

// BuildCases builds (or finds in the store) the 8 unmutated cases, the first
// sighting (case 111) first, and returns them by case bits. Experiment 1
// scans them; experiment 2 mutates them and learns its baselines from 111.
func (e *Env) BuildCases(ctx context.Context) (map[string]Built, error) {
	cases := drupal.Cases()
	order := append([]drupal.Case{{L8: true, L9: true, L10: true}}, cases...)
	built := map[string]Built{}
	for _, c := range order {
		if _, ok := built[c.Bits()]; ok {
			continue
		}
		df, err := drupal.Dockerfile(c, drupal.Options{ServerURL: e.Server.URL})
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		b, err := e.Build(ctx, BuildSpec{
			Name: "exp1/case-" + c.Bits(), Case: c.Bits(), Seed: e.Config.Seed,
			Dockerfile: df, Experiment: Exp1,
		})
		if err != nil {
			return nil, err
		}
		how := "built"
		if b.Cached {
			how = "cached"
		}
		fmt.Fprintf(e.Config.Log, "[%d/%d] %s case %s %s in %.1fs: %s, malicious layers %v\n",
			len(built)+1, len(cases), how, c.Bits(), b.Descriptor.Digest.String()[:19], time.Since(t0).Seconds(), b.Label(), b.Truth.MaliciousLayers)
		built[c.Bits()] = b
	}
	return built, nil
}
