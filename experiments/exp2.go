package experiments

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/internal/store"
	"github.com/strata-sec/strata/mutations"
)

// Exp2 is the paper's experiment 2: every case x every mutation type x
// SamplesPerType seeds, 400 images with the paper's 10 types.
const Exp2 = "exp2"

// SamplesPerType is the paper's "5 random samples" per (case, type).
const SamplesPerType = 5

// Exp2Seeds are the seeds of the samples of a run with base seed s: s*100+1
// .. s*100+5, so runs with different --seed never share a sample.
func Exp2Seeds(base int64) []int64 {
	out := make([]int64, SamplesPerType)
	for i := range out {
		out[i] = base*100 + int64(i) + 1
	}
	return out
}

// Exp2Name is the store name of one variant.
func Exp2Name(c drupal.Case, mutation string, seed int64) string {
	return fmt.Sprintf("exp2/case-%s/%s/seed-%d", c.Bits(), mutation, seed)
}

func init() { Register(exp2{}) }

type exp2 struct{}

func (exp2) Name() string { return Exp2 }
func (exp2) Summary() string {
	return "the paper's layer-reshaping mutations: every case x every Dockerfile/image type x 5 seeds"
}
func (exp2) Flags() []string { return []string{FlagTypes, FlagCases, FlagSamples, FlagDetectors} }

// Plan builds the variants of the slice.
func (exp2) Plan(ctx context.Context, env *Env) (*Plan, error) {
	built, err := env.BuildExp2(ctx)
	if err != nil {
		return nil, err
	}
	return &Plan{Built: len(built), Passes: []Pass{{File: RecordsFile, Experiment: Exp2, Images: built, Detectors: allDetectors}}}, nil
}

func (exp2) Report(dir string, s Slice) (*Report, error) {
	var names []string
	for _, m := range s.mutations(mutations.OfKind(mutations.LayerKinds...)) {
		names = append(names, m.Name())
	}
	return Exp2ReportFile(filepath.Join(dir, RecordsFile), WithMutations(names))
}

// BuildExp2 builds (or finds in the store) experiment 2's variants of the
// configured cases and seeds, with bounded concurrency and progress.
func (e *Env) BuildExp2(ctx context.Context) ([]Built, error) {
	cfg := e.Config
	orig, err := e.BuildCases(ctx, cfg.Slice.Cases)
	if err != nil {
		return nil, err
	}
	type job struct {
		c    drupal.Case
		m    mutations.Mutation
		seed int64
	}
	cases, err := selectCases(cfg.Slice.Cases)
	if err != nil {
		return nil, err
	}
	seeds := cfg.Slice.seeds(cfg.Seed)
	var jobs []job
	for _, c := range cases {
		for _, m := range cfg.Slice.mutations(mutations.OfKind(mutations.LayerKinds...)) {
			for _, s := range seeds {
				jobs = append(jobs, job{c, m, s})
			}
		}
	}
	built := make([]Built, len(jobs))
	err = e.buildEach(ctx, "exp2 build", len(jobs), func(ctx context.Context, i int) (string, error) {
		j := jobs[i]
		b, err := e.buildVariant(ctx, orig[j.c.Bits()], j.c, j.m, j.seed)
		if err != nil {
			return "", err
		}
		built[i] = b
		return b.progress(), nil
	})
	if err != nil {
		return nil, err
	}
	return built, nil
}

// progress is the progress line of a build.
func (b Built) progress() string {
	how := "built"
	if b.Cached {
		how = "cached"
	}
	return fmt.Sprintf("%s %s (%s)", how, b.Name, b.Label())
}

// buildVariant makes one mutated image: a Dockerfile mutation is built by
// BuildKit, an image mutation rewrites the stored unmutated case image.
func (e *Env) buildVariant(ctx context.Context, orig Built, c drupal.Case, m mutations.Mutation, seed int64) (Built, error) {
	name := Exp2Name(c, m.Name(), seed)
	rng := mutations.NewRand(seed, m.Name())
	switch mm := m.(type) {
	case mutations.DockerfileMutation:
		df, err := drupal.Dockerfile(c, drupal.Options{ServerURL: e.Server.URL})
		if err != nil {
			return Built{}, err
		}
		mdf, err := mm.MutateDockerfile(df, rng, mutations.Env{ServerURL: e.Server.URL, BaseWorkdir: e.webWorkdir})
		if err != nil {
			return Built{}, fmt.Errorf("%s: %w", name, err)
		}
		return e.Build(ctx, BuildSpec{
			Name: name, Case: c.Bits(), Mutation: m.Name(), MutationVersion: m.Version(),
			Seed: seed, Dockerfile: mdf, Experiment: Exp2,
		})
	case mutations.ImageMutation:
		return e.mutateImage(orig, name, c.Bits(), Exp2, mm, seed)
	}
	return Built{}, fmt.Errorf("mutation %s is neither a Dockerfile nor an image mutation", m.Name())
}

func (e *Env) mutateImage(orig Built, name, caseID, exp string, m mutations.ImageMutation, seed int64) (Built, error) {
	out := Built{Name: name, Case: caseID, Mutation: m.Name(), MutationVersion: m.Version(), Seed: seed, Prebuild: orig.Prebuild.forImageMutation()}
	key := base.InputsKey("image-mutation", orig.Descriptor.Digest.String(), m.Name(), m.Version(), strconv.FormatInt(seed, 10))
	img, layerMap, err := m.MutateImage(orig.Image, mutations.NewRand(seed, m.Name()))
	if err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	out.Truth = mapTruth(orig.Truth, layerMap)
	ann := map[string]string{
		store.AnnExperiment:      exp,
		store.AnnCase:            caseID,
		store.AnnSeed:            strconv.FormatInt(seed, 10),
		store.AnnLabel:           out.Label(),
		store.AnnMaliciousLayers: joinLayers(out.Truth.MaliciousLayers, ","),
		store.AnnMutation:        m.Name(),
		store.AnnMutationVersion: m.Version(),
		store.AnnInputs:          key,
	}
	if ent, err := e.Store.Lookup(name); err == nil && ent.Annotation(store.AnnInputs) == key {
		out.Descriptor, out.Cached = ent.Descriptor, true
	} else {
		// Writing a squashed layer compresses hundreds of MB: one at a
		// time keeps memory and disk bandwidth predictable.
		e.imageMu.Lock()
		out.Descriptor, err = e.Store.Put(img, name, ann)
		e.imageMu.Unlock()
		if err != nil {
			return out, err
		}
	}
	if out.Image, err = e.Store.Image(out.Descriptor.Digest); err != nil {
		return out, err
	}
	return out, nil
}

// mapTruth carries ground truth through an image mutation: a new layer is
// malicious when any old layer that went into it was.
func mapTruth(t corpus.Truth, layerMap []int) corpus.Truth {
	out := corpus.Truth{MaliciousConfig: t.MaliciousConfig, Tags: map[int]string{}}
	seen := map[int]bool{}
	for _, l := range t.MaliciousLayers {
		if l < 0 || l >= len(layerMap) || layerMap[l] < 0 || seen[layerMap[l]] {
			continue
		}
		seen[layerMap[l]] = true
		out.MaliciousLayers = append(out.MaliciousLayers, layerMap[l])
		out.Tags[layerMap[l]] = t.Tags[l]
	}
	sort.Ints(out.MaliciousLayers)
	return out
}

// selectCases returns the cases named by bits, in bit order; none means all.
func selectCases(bits []string) ([]drupal.Case, error) {
	if len(bits) == 0 {
		return drupal.Cases(), nil
	}
	want := map[string]bool{}
	for _, b := range bits {
		c, err := drupal.ParseCase(b)
		if err != nil {
			return nil, err
		}
		want[c.Bits()] = true
	}
	var out []drupal.Case
	for _, c := range drupal.Cases() {
		if want[c.Bits()] {
			out = append(out, c)
		}
	}
	return out, nil
}
