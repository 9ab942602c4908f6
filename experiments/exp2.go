package experiments

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/progress"
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

// Concurrency bounds simultaneous BuildKit solves and scans. Two matches
// the 2-core machines the experiments are sized for; BuildKit itself
// parallelises inside a solve.
var Concurrency = 2

// RunExp2 builds the 400 variants (resuming where a previous run stopped),
// then scans each with every detector and appends records.
func RunExp2(ctx context.Context, cfg Config) error {
	env, err := Prepare(ctx, cfg)
	if err != nil {
		return err
	}
	defer env.Close()
	cfg = env.Config
	logf := func(format string, a ...any) { fmt.Fprintf(cfg.Log, format+"\n", a...) }

	// The unmutated cases: inputs of the image mutations and, for case
	// 111, the first sighting the baselines learn from.
	orig, err := env.BuildCases(ctx)
	if err != nil {
		return err
	}
	logf("exp2: the 8 unmutated cases are in the store")
	built, err := env.BuildExp2(ctx, orig)
	if err != nil {
		return err
	}

	if cfg.BuildOnly {
		logf("exp2: %d images in the store; --build-only, nothing scanned", len(built))
		return nil
	}
	resDir := filepath.Join(cfg.ResultsDir, Exp2)
	set, err := Detectors(ctx, cfg, orig["111"], resDir)
	if err != nil {
		return err
	}
	defer set.Close()
	if err := scanAll(ctx, cfg, Exp2, built, set.Detectors, filepath.Join(resDir, "records.jsonl")); err != nil {
		return err
	}
	set.LogCache(cfg.Log)
	return nil
}

// BuildExp2 builds (or finds in the store) experiment 2's variants of the
// configured cases and seeds, with bounded concurrency and progress.
func (e *Env) BuildExp2(ctx context.Context, orig map[string]Built) ([]Built, error) {
	cfg := e.Config
	type job struct {
		c    drupal.Case
		m    mutations.Mutation
		seed int64
	}
	cases, err := selectCases(cfg.Cases)
	if err != nil {
		return nil, err
	}
	seeds := Exp2Seeds(cfg.Seed)
	if cfg.Samples > 0 && cfg.Samples < len(seeds) {
		seeds = seeds[:cfg.Samples]
	}
	var jobs []job
	for _, c := range cases {
		for _, m := range mutations.OfKind(mutations.LayerKinds...) {
			for _, s := range seeds {
				jobs = append(jobs, job{c, m, s})
			}
		}
	}
	built := make([]Built, len(jobs))
	err = buildEach(ctx, cfg.Log, "exp2 build", len(jobs), func(ctx context.Context, i int) (string, error) {
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

// buildEach runs build for jobs 0..n-1, Concurrency at a time, with a
// progress bar; each build returns its progress line. After a failure no
// new job starts.
func buildEach(ctx context.Context, log io.Writer, label string, n int, build func(ctx context.Context, i int) (string, error)) error {
	bar := progress.New(log, label, n)
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(Concurrency)
	for i := 0; i < n; i++ {
		eg.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err // another build failed: do not start new ones
			}
			msg, err := build(gctx, i)
			if err != nil {
				return err
			}
			bar.Step(msg)
			return nil
		})
	}
	return eg.Wait()
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

var imageMutationMu sync.Mutex

func (e *Env) mutateImage(orig Built, name, caseID, exp string, m mutations.ImageMutation, seed int64) (Built, error) {
	out := Built{Name: name, Case: caseID, Mutation: m.Name(), MutationVersion: m.Version(), Seed: seed}
	key := inputsKey("image-mutation", orig.Descriptor.Digest.String(), m.Name(), m.Version(), strconv.FormatInt(seed, 10))
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
		store.AnnMaliciousLayers: joinInts(out.Truth.MaliciousLayers),
		store.AnnMutation:        m.Name(),
		store.AnnMutationVersion: m.Version(),
		store.AnnInputs:          key,
	}
	if ent, err := e.Store.Lookup(name); err == nil && ent.Annotation(store.AnnInputs) == key {
		out.Descriptor, out.Cached = ent.Descriptor, true
	} else {
		// Writing a squashed layer compresses hundreds of MB: one at a
		// time keeps memory and disk bandwidth predictable.
		imageMutationMu.Lock()
		out.Descriptor, err = e.Store.Put(img, name, ann)
		imageMutationMu.Unlock()
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

// scanAll scans every image with every detector (bounded concurrency),
// skipping records that exist, and appends records in image order so the
// file does not depend on scheduling.
func scanAll(ctx context.Context, cfg Config, exp string, images []Built, dets []detectors.Detector, path string) error {
	recs, err := OpenRecords(path, cfg.Fresh)
	if err != nil {
		return err
	}
	type slot struct {
		rec  Record
		skip bool
		done chan struct{}
	}
	slots := make([]*slot, 0, len(images)*len(dets))
	for _, b := range images {
		for _, d := range dets {
			s := &slot{done: make(chan struct{})}
			probe := Record{Image: b.Name, ManifestDigest: b.Descriptor.Digest.String(), Detector: d.Name(), DetectorVersion: d.Version()}
			s.skip = recs.Has(probe)
			slots = append(slots, s)
		}
	}
	bar := progress.New(cfg.Log, exp+" scan", len(slots))
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(Concurrency)
	go func() {
		i := 0
		for _, b := range images {
			for _, d := range dets {
				s := slots[i]
				i++
				if s.skip {
					close(s.done)
					continue
				}
				eg.Go(func() error {
					defer close(s.done)
					if err := gctx.Err(); err != nil {
						return err // interrupted or another scan failed: start no more
					}
					r, err := Scan(gctx, exp, b, d)
					if err != nil {
						return err
					}
					s.rec = r
					return nil
				})
			}
		}
	}()
	// Append in order as results arrive.
	i := 0
	for _, b := range images {
		for _, d := range dets {
			s := slots[i]
			i++
			select {
			case <-s.done:
			case <-gctx.Done():
				return firstErr(eg.Wait(), gctx.Err())
			}
			if s.skip {
				bar.Step(fmt.Sprintf("%s %s: already recorded", b.Name, d.Name()))
				continue
			}
			if s.rec.Detector == "" { // the scan failed; eg.Wait has the error
				return firstErr(eg.Wait(), fmt.Errorf("scan %s with %s failed", b.Name, d.Name()))
			}
			if err := recs.Append(s.rec); err != nil {
				return err
			}
			bar.Step(fmt.Sprintf("%s %s: %s", b.Name, d.Name(), s.rec.Decision))
		}
	}
	return eg.Wait()
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
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
