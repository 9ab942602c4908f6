package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/debs"
	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/mutations"
)

// Exp3 is experiment 3, the attacks the paper did not try: payload
// mutations (the miner binary, its name, its pool, how it is stored and
// started) on the malicious cases, and every mutation type — the paper's
// layer reshaping and the payload types — applied to benign images as
// controls, so each type has a false-positive rate. The hierarchical
// detector's signals are ablated on experiment 2's and experiment 3's
// images (ablation.jsonl).
const Exp3 = "exp3"

// Exp3BenignSamples is the number of seeds per (benign corpus image, type):
// one, since 16 images x 21 types already give every type its own sample of
// benign images; case 000 (the drupal web app) gets SamplesPerType seeds
// per payload type like the malicious cases.
const Exp3BenignSamples = 1

// subject is an unmutated image experiment 3 mutates: a drupal case or a
// benign corpus image.
type subject struct {
	id         string // record Case: the case bits or the benign image's name
	stem       string // store-name part: "case-111", "benign-monero-node"
	dockerfile []byte
	// writeContext writes a private build context for payload mutations;
	// sharedContext is the context (and its key) every other build uses.
	writeContext             func(dir string) error
	sharedContext, sharedKey string
	from                     string // BuildSpec.From
	workdir                  string // the working directory the final stage inherits
	noWget                   bool   // the image has no wget (dummy-network uses bash)
	baseLayers               int    // layers of the image the final stage is built FROM
	orig                     Built
}

// Exp3Name is the store name of one experiment-3 image.
func Exp3Name(stem, mutation string, seed int64) string {
	return fmt.Sprintf("exp3/%s/%s/seed-%d", stem, mutation, seed)
}

func init() { Register(exp3{}) }

type exp3 struct{}

func (exp3) Name() string { return Exp3 }
func (exp3) Summary() string {
	return "payload mutations on the cases, every type on benign controls, and the hierarchical detector's ablation"
}
func (exp3) Flags() []string { return SliceFlags }

// Plan builds experiment 3's images of the slice; its passes scan them with
// every detector into records.jsonl, then scan experiment 2's and 3's
// images with the ablation variants of the hierarchical detector into
// ablation.jsonl.
func (exp3) Plan(ctx context.Context, env *Env) (*Plan, error) {
	cfg := env.Config
	orig, err := env.BuildCases(ctx, cfg.Slice.Cases)
	if err != nil {
		return nil, err
	}
	subjects, err := env.drupalSubjects(orig)
	if err != nil {
		return nil, err
	}
	benignSubjects, err := env.benignSubjects(ctx)
	if err != nil {
		return nil, err
	}
	env.vlogf("exp3: %d drupal cases and %d benign images to mutate", len(subjects), len(benignSubjects))

	type job struct {
		s    *subject
		m    mutations.Mutation
		seed int64
	}
	seeds := cfg.Slice.seeds(cfg.Seed)
	var jobs []job
	for _, s := range subjects {
		for _, m := range cfg.Slice.mutations(mutations.OfKind("payload")) {
			for _, seed := range seeds {
				jobs = append(jobs, job{s, m, seed})
			}
		}
	}
	for _, s := range benignSubjects {
		for _, m := range cfg.Slice.mutations(mutations.All()) {
			for _, seed := range seeds[:min(Exp3BenignSamples, len(seeds))] {
				jobs = append(jobs, job{s, m, seed})
			}
		}
	}
	built := make([]Built, len(jobs))
	skipped := make([]*NotApplicable, len(jobs))
	err = env.buildEach(ctx, "exp3 build", len(jobs), func(ctx context.Context, i int) (string, error) {
		j := jobs[i]
		b, err := env.buildExp3(ctx, j.s, j.m, j.seed)
		if errors.Is(err, mutations.ErrNotApplicable) {
			label := LabelBenign
			if j.s.orig.Truth.Malicious() {
				label = LabelMalicious
			}
			skipped[i] = &NotApplicable{Experiment: Exp3, Subject: j.s.id, Label: label,
				Mutation: j.m.Name(), MutationVersion: j.m.Version(), Seed: j.seed, Reason: err.Error()}
			return fmt.Sprintf("not applicable: %s %s", j.m.Name(), j.s.stem), nil
		}
		if err != nil {
			return "", err
		}
		built[i] = b
		return b.progress(), nil
	})
	if err != nil {
		return nil, err
	}
	plan := &Plan{WritesNotApplicable: true}
	var images []Built
	for i := range jobs {
		if skipped[i] != nil {
			plan.NotApplicable = append(plan.NotApplicable, *skipped[i])
		} else {
			images = append(images, built[i])
		}
	}
	plan.Built, plan.Skipped = len(images), len(plan.NotApplicable)
	env.logf("exp3: %d images; %d (subject, type, seed) not applicable", len(images), len(plan.NotApplicable))
	// Ablation: the same images (experiment 2's of the slice too) with
	// each signal off and each signal alone.
	var exp2Images []Built
	if !cfg.BuildOnly {
		if exp2Images, err = env.BuildExp2(ctx); err != nil {
			return nil, err
		}
	}
	ablation := func(s *DetectorSet) []detectors.Detector { return s.Ablation() }
	plan.Passes = []Pass{
		{File: RecordsFile, Experiment: Exp3, Images: images, Detectors: allDetectors},
		{File: AblationFile, Experiment: Exp2, Images: exp2Images, Detectors: ablation},
		{File: AblationFile, Experiment: Exp3, Images: images, Detectors: ablation},
	}
	return plan, nil
}

func (exp3) Report(dir string, _ Slice) (*Report, error) { return Exp3ReportDir(dir) }

// drupalSubjects are the 8 cases; payload mutations get a private context
// holding the sample's own files (everything but the .deb packages, which
// only the web-app image installs).
func (e *Env) drupalSubjects(orig map[string]Built) ([]*subject, error) {
	cases, err := selectCases(e.Config.Slice.Cases)
	if err != nil {
		return nil, err
	}
	var out []*subject
	for _, c := range cases {
		df, err := drupal.Dockerfile(c, drupal.Options{ServerURL: e.Server.URL})
		if err != nil {
			return nil, err
		}
		out = append(out, &subject{
			id: c.Bits(), stem: "case-" + c.Bits(), dockerfile: df,
			writeContext: func(dir string) error {
				return copyTree(e.ContextDir, dir, func(rel string) bool { return rel == "debs" })
			},
			sharedContext: e.ContextDir, sharedKey: e.ContextKey,
			workdir: e.webWorkdir, baseLayers: e.webLayers, orig: orig[c.Bits()],
		})
	}
	return out, nil
}

// benignSubjects builds (or finds) the benign corpus images.
func (e *Env) benignSubjects(ctx context.Context) ([]*subject, error) {
	bs, err := e.buildBenign(ctx, e.Config.Slice.keepsBenign)
	if err != nil {
		return nil, err
	}
	out := make([]*subject, len(bs))
	for i, b := range bs {
		out[i] = b.subject
	}
	return out, nil
}

// buildExp3 builds one experiment-3 image of s with mutation m.
func (e *Env) buildExp3(ctx context.Context, s *subject, m mutations.Mutation, seed int64) (Built, error) {
	name := Exp3Name(s.stem, m.Name(), seed)
	rng := mutations.NewRand(seed, m.Name())
	env := mutations.Env{ServerURL: e.Server.URL, BaseWorkdir: s.workdir, NoWget: s.noWget}
	spec := BuildSpec{
		Name: name, Case: s.id, Mutation: m.Name(), MutationVersion: m.Version(), Seed: seed,
		Experiment: Exp3, ContextDir: s.sharedContext, ContextKey: s.sharedKey, From: s.from,
	}
	switch mm := m.(type) {
	case mutations.DockerfileMutation:
		df, err := mm.MutateDockerfile(s.dockerfile, rng, env)
		if err != nil {
			return Built{}, fmt.Errorf("%s: %w", name, err)
		}
		spec.Dockerfile = df
		return e.Build(ctx, spec)
	case mutations.ImageMutation:
		if _, ok := m.(mutations.Squash); ok {
			// Squash what the image's own Dockerfile added: the layers
			// above the image it is built FROM.
			mm = mutations.NewSquash(s.baseLayers)
		}
		return e.mutateImage(s.orig, name, s.id, Exp3, mm, seed)
	case mutations.PayloadMutation:
		dir := filepath.Join(e.tmp, "exp3-context", strings.ReplaceAll(name, "/", "_"))
		defer os.RemoveAll(dir)
		if err := s.writeContext(dir); err != nil {
			return Built{}, fmt.Errorf("%s: context: %w", name, err)
		}
		shared, err := sharedFiles(dir)
		if err != nil {
			return Built{}, err
		}
		p := &mutations.Payload{Dockerfile: s.dockerfile, Dir: dir, Epoch: e.Epoch()}
		if err := mm.MutatePayload(p, rng, env); err != nil {
			return Built{}, fmt.Errorf("%s: %w", name, err)
		}
		if err := shared.unchanged(); err != nil {
			return Built{}, fmt.Errorf("%s: mutation %s changed a file shared with a cache (it must replace files, not write through hard links): %w", name, m.Name(), err)
		}
		key, err := hashTree(dir)
		if err != nil {
			return Built{}, err
		}
		spec.Dockerfile, spec.ContextDir, spec.ContextKey, spec.Epoch = p.Dockerfile, dir, key, p.Epoch
		spec.FixedEpoch = true
		return e.Build(ctx, spec)
	}
	return Built{}, fmt.Errorf("mutation %s has an unknown kind", m.Name())
}

// linkedFiles remembers the hard-linked files of a context (the .deb
// packages linked from the package cache) so a mutation that wrote
// through a link is caught before the cache is trusted again.
type linkedFiles map[string]os.FileInfo

func sharedFiles(dir string) (linkedFiles, error) {
	out := linkedFiles{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
			out[p] = fi
		}
		return nil
	})
	return out, err
}

func (l linkedFiles) unchanged() error {
	for p, before := range l {
		after, err := os.Lstat(p)
		if err != nil {
			continue // removed: the link is gone, the cache's file is intact
		}
		if os.SameFile(before, after) && (after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime())) {
			return fmt.Errorf("%s", p)
		}
	}
	return nil
}

// copyTree copies src into dst (created), skipping top-level entries for
// which skip returns true. Files are copied, never linked.
func copyTree(src, dst string, skip func(rel string) bool) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && skip(strings.Split(filepath.ToSlash(rel), "/")[0]) {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		out := filepath.Join(dst, rel)
		switch {
		case fi.IsDir():
			if err := os.MkdirAll(out, fi.Mode().Perm()); err != nil {
				return err
			}
		case fi.Mode()&os.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(t, out); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(p, out, fi.Mode().Perm()); err != nil {
				return err
			}
		}
		return os.Chtimes(out, fi.ModTime(), fi.ModTime())
	})
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// benignBuilt is one benign corpus image with what experiment 3 needs to
// mutate it.
type benignBuilt struct {
	Built
	subject *subject
}

// buildBenign builds (or finds in the store) the benign corpus images
// for which want returns true.
func (e *Env) buildBenign(ctx context.Context, want func(name string) bool) ([]benignBuilt, error) {
	return e.buildBenignImages(ctx, Benign, filterImages(benign.Images(), want))
}

// filterImages keeps the images for which want returns true.
func filterImages(all []benign.Image, want func(name string) bool) []benign.Image {
	var out []benign.Image
	for _, im := range all {
		if want(im.Name) {
			out = append(out, im)
		}
	}
	return out
}

// buildBenignImages builds (or finds in the store) images of corpus/benign
// (packages fetched once with the host's apt against the dpkg status of the
// image each is built FROM) for experiment exp.
func (e *Env) buildBenignImages(ctx context.Context, exp string, images []benign.Image) ([]benignBuilt, error) {
	return e.buildCorpusImages(ctx, corpusSet{exp: exp, prefix: "benign", served: benign.WriteServed,
		check: func(im benign.Image, t corpus.Truth) error {
			if t.Malicious() {
				return fmt.Errorf("benign %s: ground truth says malicious (%v): a benign Dockerfile must carry no marker", im.Name, t.MaliciousLayers)
			}
			return nil
		}}, images)
}

// corpusSet says where the images of a Dockerfile corpus (corpus/benign,
// corpus/wild) go and how their ground truth is checked.
type corpusSet struct {
	exp    string                 // the experiment the builds belong to
	prefix string                 // store-name prefix: "benign" stores benign/<name>
	served func(dir string) error // writes the corpus's served files under dir
	check  func(benign.Image, corpus.Truth) error
}

// buildCorpusImages builds (or finds in the store) the images of a
// Dockerfile corpus, one after another (BuildKit uses every core).
func (e *Env) buildCorpusImages(ctx context.Context, set corpusSet, images []benign.Image) ([]benignBuilt, error) {
	e.benignMu.Lock()
	defer e.benignMu.Unlock()
	if err := set.served(filepath.Join(e.tmp, "served")); err != nil {
		return nil, fmt.Errorf("%s: served files: %w", set.prefix, err)
	}
	statuses, err := e.dpkgStatuses()
	if err != nil {
		return nil, err
	}
	out := make([]benignBuilt, 0, len(images))
	bar := e.phase(set.prefix+" build", len(images))
	defer bar.Done()
	for _, im := range images {
		statusFile, ok := statuses[im.From]
		if !ok {
			return nil, fmt.Errorf("%s %s: unknown FROM %q", set.prefix, im.Name, im.From)
		}
		debsDir := filepath.Join(e.Config.CacheDir, "debs", set.prefix, im.Name)
		if len(im.Packages) > 0 {
			t0 := time.Now()
			if err := debs.Fetch(ctx, statusFile, debsDir, im.Packages); err != nil {
				return nil, fmt.Errorf("%s %s: %w", set.prefix, im.Name, err)
			}
			e.vlogf("%s: %s: packages ready (%.1fs)", set.prefix, im.Name, time.Since(t0).Seconds())
		}
		ctxDir := filepath.Join(e.tmp, set.prefix+"-context", im.Name)
		if err := im.WriteContext(ctxDir, debsDir); err != nil {
			return nil, err
		}
		ctxKey, err := hashTree(ctxDir)
		if err != nil {
			return nil, err
		}
		df, err := im.Dockerfile(benign.Options{ServerURL: e.Server.URL})
		if err != nil {
			return nil, err
		}
		specFrom, workdir, baseLayers := drupal.DefaultWebImage, e.webWorkdir, e.webLayers
		if im.From == benign.FromDebian {
			specFrom, workdir, baseLayers = base.DebianName, "/", e.debianLayers
		}
		t0 := time.Now()
		b, err := e.Build(ctx, BuildSpec{
			Name: set.prefix + "/" + im.Name, Case: im.Name, Seed: e.Config.Seed,
			Dockerfile: df, Experiment: set.exp,
			ContextDir: ctxDir, ContextKey: ctxKey, From: specFrom,
		})
		if err != nil {
			return nil, err
		}
		if err := set.check(im, b.Truth); err != nil {
			return nil, err
		}
		how := "built"
		if b.Cached {
			how = "cached"
		}
		bar.Step(fmt.Sprintf("%s %s %s in %.1fs", how, b.Name, b.Descriptor.Digest.String()[:19], time.Since(t0).Seconds()))
		im := im
		out = append(out, benignBuilt{Built: b, subject: &subject{
			id: im.Name, stem: set.prefix + "-" + im.Name, dockerfile: df,
			writeContext:  func(dir string) error { return im.WriteContext(dir, debsDir) },
			sharedContext: ctxDir, sharedKey: ctxKey,
			from: specFrom, workdir: workdir, baseLayers: baseLayers, orig: b,
			// Debian's minbase has no wget; the drupal web app installs it.
			noWget: im.From == benign.FromDebian && !slices.Contains(im.Packages, "wget"),
		}})
	}
	return out, nil
}
