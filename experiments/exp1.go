package experiments

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/detectors"
)

// Exp1 is the paper's experiment 1: the 8 layer-presence cases of the
// drupal sample (layers 8, 9, 10 each present or absent), one image each,
// scanned by every detector.
const Exp1 = "exp1"

// FirstSighting is the case every signature baseline learns from: the
// full, unmutated sample (layers 8, 9 and 10 present).
const FirstSighting = "111"

func init() { Register(exp1{}) }

type exp1 struct{}

func (exp1) Name() string { return Exp1 }
func (exp1) Summary() string {
	return "the paper's 8 layer-presence cases of the drupal sample, unmutated"
}
func (exp1) Flags() []string { return []string{FlagCases, FlagDetectors} }

// Plan builds the cases of the slice (all 8 by default).
func (exp1) Plan(ctx context.Context, env *Env) (*Plan, error) {
	built, err := env.BuildCases(ctx, env.Config.Slice.Cases)
	if err != nil {
		return nil, err
	}
	cases, err := selectCases(env.Config.Slice.Cases)
	if err != nil {
		return nil, err
	}
	ordered := make([]Built, 0, len(cases))
	for _, c := range cases {
		ordered = append(ordered, built[c.Bits()])
	}
	// The sample-blind variant runs beside the full detector here (in
	// experiments 2 and 3 it is an ablation variant).
	withBlind := func(s *DetectorSet) []detectors.Detector {
		return append(slices.Clip(allDetectors(s)), s.SampleBlind())
	}
	return &Plan{Built: len(ordered), Passes: []Pass{{File: RecordsFile, Experiment: Exp1, Images: ordered, Detectors: withBlind}}}, nil
}

func (exp1) Report(dir string, _ Slice) (*Report, error) {
	return Exp1ReportFile(filepath.Join(dir, RecordsFile))
}

// Case builds (or finds in the store, or remembers from earlier in the
// run) the unmutated case with the given bits.
func (e *Env) Case(ctx context.Context, bits string) (Built, error) {
	c, err := drupal.ParseCase(bits)
	if err != nil {
		return Built{}, err
	}
	e.casesMu.Lock()
	defer e.casesMu.Unlock()
	if b, ok := e.cases[c.Bits()]; ok {
		return b, nil
	}
	df, err := drupal.Dockerfile(c, drupal.Options{ServerURL: e.Server.URL})
	if err != nil {
		return Built{}, err
	}
	b, err := e.Build(ctx, BuildSpec{
		Name: "exp1/case-" + c.Bits(), Case: c.Bits(), Seed: e.Config.Seed,
		Dockerfile: df, Experiment: Exp1,
	})
	if err != nil {
		return Built{}, err
	}
	if e.cases == nil {
		e.cases = map[string]Built{}
	}
	e.cases[c.Bits()] = b
	return b, nil
}

// BuildCases builds (or finds in the store) the unmutated cases named by
// bits (all 8 when none), the first sighting always among them, and returns
// them by case bits. Experiment 1 scans them; experiments 2 and 3 mutate
// them; every experiment's baselines learn from case 111.
func (e *Env) BuildCases(ctx context.Context, bits []string) (map[string]Built, error) {
	cases, err := selectCases(bits)
	if err != nil {
		return nil, err
	}
	want := []string{FirstSighting}
	for _, c := range cases {
		if c.Bits() != FirstSighting {
			want = append(want, c.Bits())
		}
	}
	built := map[string]Built{}
	bar := e.phase("unmutated cases", len(want))
	defer bar.Done()
	for _, w := range want {
		b, err := e.Case(ctx, w)
		if err != nil {
			return nil, err
		}
		bar.Step(fmt.Sprintf("case %s %s: %s, malicious layers %v", w, b.Descriptor.Digest.String()[:19], b.progress(), b.Truth.MaliciousLayers))
		built[w] = b
	}
	return built, nil
}
