package experiments

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/buildkit"
	"github.com/strata-sec/strata/internal/store"
)

// Built is one image of an experiment with its ground truth.
type Built struct {
	Name            string
	Case            string
	Mutation        string
	MutationVersion string
	Seed            int64
	Descriptor      v1.Descriptor
	Image           v1.Image
	Truth           corpus.Truth
	// Cached is true when the store already held the image for the same
	// inputs and BuildKit was not asked.
	Cached bool
	// Family and Split place a wild-corpus subject (corpus/wild); Grey
	// labels it grey (pool software, reported apart).
	Family, Split string
	Grey          bool
	// Prebuild is the pre-build (dockerfile) detector's verdict on the
	// Dockerfile and context the image was built from; nil for images
	// not built from a Dockerfile here.
	Prebuild *Prebuild
}

// Label is the ground-truth label.
func (b Built) Label() string {
	if b.Grey {
		return LabelGrey
	}
	if b.Truth.Malicious() {
		return LabelMalicious
	}
	return LabelBenign
}

// BuildSpec is one Dockerfile build of an experiment.
type BuildSpec struct {
	Name            string
	Case            string
	Mutation        string
	MutationVersion string
	Seed            int64
	Dockerfile      []byte
	Experiment      string
	// ContextDir is the build context; empty means the drupal context
	// (Env.ContextDir). With a ContextDir, ContextKey (hashTree of it) and
	// the Debian base digest are part of the inputs key.
	ContextDir string
	ContextKey string
	// From is what the Dockerfile's final stage is built FROM, for ground
	// truth: "" or drupal.DefaultWebImage (the web-app image), or
	// base.DebianName (the Debian base).
	From string
	// FixedEpoch makes Epoch the build's SOURCE_DATE_EPOCH (nil: not
	// reproducible) instead of the run's (Env.Epoch): a payload mutation
	// may move it.
	FixedEpoch bool
	Epoch      *time.Time
}

// epoch is the SOURCE_DATE_EPOCH of spec's build.
func (e *Env) epoch(spec BuildSpec) *time.Time {
	if spec.FixedEpoch {
		return spec.Epoch
	}
	return e.Epoch()
}

// epochKey is the inputs-key part for an epoch.
func epochKey(t *time.Time) string {
	if t == nil {
		return "epoch:none"
	}
	return "epoch:" + strconv.FormatInt(t.Unix(), 10)
}

// Build builds spec with BuildKit into the store (or reuses the stored image
// when its inputs are unchanged) and computes its ground truth. Concurrent
// builds of identical inputs (a conditional-layer sample that kept the
// Dockerfile unchanged, say) run one at a time: BuildKit would otherwise
// export the same manifest into the store twice at once, and the content
// store refuses the second writer.
func (e *Env) Build(ctx context.Context, spec BuildSpec) (Built, error) {
	key := base.InputsKey(string(spec.Dockerfile), e.ContextKey, e.Web.Digest.String(), e.Server.URL, strconv.FormatBool(e.Config.BuildTime))
	if spec.ContextDir != "" {
		key = base.InputsKey(string(spec.Dockerfile), spec.ContextKey, e.Web.Digest.String(), e.Debian.Digest.String(), e.Server.URL, strconv.FormatBool(e.Config.BuildTime))
	}
	if spec.FixedEpoch {
		key = base.InputsKey(key, epochKey(spec.Epoch))
	}
	unlock := e.lockKey(key)
	defer unlock()
	return e.build(ctx, spec, key)
}

// lockKey serialises work on one inputs key.
func (e *Env) lockKey(key string) func() {
	e.keyMu.Lock()
	if e.keyLocks == nil {
		e.keyLocks = map[string]*sync.Mutex{}
	}
	m, ok := e.keyLocks[key]
	if !ok {
		m = &sync.Mutex{}
		e.keyLocks[key] = m
	}
	e.keyMu.Unlock()
	m.Lock()
	return m.Unlock
}

func (e *Env) build(ctx context.Context, spec BuildSpec, key string) (Built, error) {
	out := Built{Name: spec.Name, Case: spec.Case, Mutation: spec.Mutation, MutationVersion: spec.MutationVersion, Seed: spec.Seed}
	contextDir := e.ContextDir
	if spec.ContextDir != "" {
		contextDir = spec.ContextDir
	}
	// Before the build, as pre-build analysis runs; also for a stored
	// image, as the context may be temporary.
	out.Prebuild = prebuildScan(ctx, spec.Name, spec.Dockerfile, contextDir)
	if ent, err := e.Store.Lookup(spec.Name); err == nil && ent.Annotation(store.AnnInputs) == key && e.epoch(spec) != nil {
		out.Descriptor, out.Cached = ent.Descriptor, true
	} else {
		lf, err := e.buildLog(spec.Name)
		if err != nil {
			return out, err
		}
		logPath := lf.Name()
		res, err := e.Builder.BuildRetry(ctx, buildkit.Request{
			ContextDir:  contextDir,
			Dockerfile:  spec.Dockerfile,
			BaseImages:  e.baseImages(),
			Epoch:       e.epoch(spec),
			Progress:    lf,
			Name:        spec.Name,
			Annotations: map[string]string{store.AnnExperiment: spec.Experiment},
		})
		lf.Close()
		if err != nil {
			return out, fmt.Errorf("build %s (BuildKit log: %s): %w", spec.Name, logPath, err)
		}
		out.Descriptor = res.Descriptor
		// Annotations are written below, once ground truth is known;
		// the inputs key last, so an interrupted run rebuilds.
	}
	img, err := e.Store.Image(out.Descriptor.Digest)
	if err != nil {
		return out, err
	}
	out.Image = img
	cf, err := img.ConfigFile()
	if err != nil {
		return out, err
	}
	baseHistory := e.webHistory
	if spec.From == base.DebianName {
		if baseHistory, err = e.debianHistory(); err != nil {
			return out, err
		}
	}
	if out.Truth, err = corpus.GroundTruth(spec.Dockerfile, cf, baseHistory); err != nil {
		return out, fmt.Errorf("%s: %w", spec.Name, err)
	}
	ann := map[string]string{
		store.AnnExperiment:      spec.Experiment,
		store.AnnCase:            spec.Case,
		store.AnnSeed:            strconv.FormatInt(spec.Seed, 10),
		store.AnnLabel:           out.Label(),
		store.AnnMaliciousLayers: joinLayers(out.Truth.MaliciousLayers, ","),
		store.AnnMaliciousConfig: strings.Join(out.Truth.MaliciousConfig, "\n"),
		store.AnnInputs:          key,
	}
	if spec.Mutation != "" {
		ann[store.AnnMutation] = spec.Mutation
		ann[store.AnnMutationVersion] = spec.MutationVersion
	}
	if err := e.Store.Register(out.Descriptor, spec.Name, ann); err != nil {
		return out, err
	}
	return out, nil
}

// debianHistory is the number of history entries of the Debian base.
func (e *Env) debianHistory() (int, error) {
	img, err := e.Store.Image(e.Debian.Digest)
	if err != nil {
		return 0, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return 0, err
	}
	return len(cf.History), nil
}

// Scan runs one detector on one built image and makes its record.
func Scan(ctx context.Context, exp string, b Built, d detectors.Detector) (Record, error) {
	r := Record{
		Schema: RecordSchema, Experiment: exp, Image: b.Name,
		ManifestDigest: b.Descriptor.Digest.String(),
		Case:           b.Case, Mutation: b.Mutation, MutationVersion: b.MutationVersion, Seed: b.Seed,
		Label: b.Label(), MaliciousLayers: nonNil(b.Truth.MaliciousLayers),
		Family: b.Family, Split: b.Split,
		Detector: d.Name(), DetectorVersion: d.Version(),
	}
	if cd, err := b.Image.ConfigName(); err == nil {
		r.ConfigDigest = cd.String()
	}
	// DiffIDs from the config: asking an OCI-layout layer for its DiffID
	// decompresses and hashes the whole blob.
	if _, slim := d.(slimRecords); slim {
		// ablation variants: the full detector's records carry the layers
	} else if cf, err := b.Image.ConfigFile(); err == nil {
		for _, id := range cf.RootFS.DiffIDs {
			r.Layers = append(r.Layers, id.String())
		}
	}
	t0 := time.Now()
	var v detectors.Verdict
	var err error
	if bs, ok := d.(builtScanner); ok {
		v, r.ScanMillis, err = bs.scanBuilt(b, len(r.Layers))
	} else {
		v, err = d.Scan(ctx, b.Image)
		r.ScanMillis = time.Since(t0).Milliseconds()
	}
	if err != nil {
		r.Error = err.Error()
		r.Decision = detectors.Incomplete
		return r, nil
	}
	r.Decision, r.Score, r.Threshold = v.Decision, v.Score, v.Threshold
	r.BlamedLayers = nonNil(v.BlamedLayers)
	r.Findings = v.Findings
	r.Info = v.Info
	return r, nil
}

func nonNil(xs []int) []int {
	if xs == nil {
		return []int{}
	}
	return xs
}
