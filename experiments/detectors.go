package experiments

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/baselines/digest"
	"github.com/strata-sec/strata/baselines/inventory"
	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// KnownSamplesFile is where Detectors saves the fuzzy hashes the
// hierarchical detector's hash signal learned from the first sighting.
const KnownSamplesFile = "known-samples.jsonl"

// DetectorSet is what an experiment scans with: the detectors, the options
// of the full hierarchical detector (so ablation variants share them), and
// the layer cache they share.
type DetectorSet struct {
	Detectors []detectors.Detector
	// Hierarchical is the full detector (every signal on) among Detectors.
	Hierarchical *hierarchical.Detector
	hierOpts     []hierarchical.Option
	me           *multiengine.Detector
	inv          *inventory.Detector
	sboms        *inventory.SBOMCache
	cache        *layercache.Cache
}

// LogCache writes the shared layer cache's counters (how many layer walks
// were replayed from memory or disk instead of decompressing the blob) and
// the inventory baseline's SBOM cache's.
func (s *DetectorSet) LogCache(w io.Writer) {
	st := s.cache.Stats()
	hits := st.Hits + st.DiskHits
	total := hits + st.Misses
	rate := 0.0
	if total > 0 {
		rate = 100 * float64(hits) / float64(total)
	}
	fmt.Fprintf(w, "hierarchical layer cache: %d of %d layer walks replayed (%.1f%%; %d from memory, %d from disk), %d read from blobs, %d records stored\n",
		hits, total, rate, st.Hits, st.DiskHits, st.Misses, st.Stores)
	if s.sboms != nil {
		ss := s.sboms.Stats()
		fmt.Fprintf(w, "inventory SBOM cache: %d of %d SBOMs reused, %d failed writes\n", ss.Hits, ss.Hits+ss.Misses, ss.PutErrors)
	}
}

// Close releases the multi-engine baseline's resources and stops the
// inventory baseline's SBOM helpers.
func (s *DetectorSet) Close() {
	if s.me != nil {
		s.me.Close()
	}
	if s.inv != nil {
		_ = s.inv.Close()
	}
}

// Detectors returns every detector an experiment runs, sorted by name. The
// signature baselines and the hierarchical detector's hash signal learn
// from firstSighting — the full, unmutated malicious image, as a vendor
// would see it first — and what they learned is saved beside the records
// (signatures.json, multiengine-signatures.json, known-samples.jsonl) so a
// reader can check it. The hierarchical detectors share one layer cache,
// persisted under the cache dir.
func Detectors(ctx context.Context, cfg Config, firstSighting Built, resultsDir string) (*DetectorSet, error) {
	sigs, err := digest.Learn(firstSighting.Image, firstSighting.Truth.MaliciousLayers)
	if err != nil {
		return nil, fmt.Errorf("learn signatures from %s: %w", firstSighting.Name, err)
	}
	if err := os.MkdirAll(resultsDir, 0o755); err != nil {
		return nil, err
	}
	if err := sigs.Save(filepath.Join(resultsDir, "signatures.json")); err != nil {
		return nil, err
	}
	msigs, err := multiengine.Learn(firstSighting.Image, firstSighting.Truth.MaliciousLayers)
	if err != nil {
		return nil, fmt.Errorf("learn multi-engine signatures from %s: %w", firstSighting.Name, err)
	}
	if err := msigs.Save(filepath.Join(resultsDir, "multiengine-signatures.json")); err != nil {
		return nil, err
	}
	ks, err := learnKnownSamples(ctx, firstSighting.Image, firstSighting.Truth.MaliciousLayers, filepath.Join(resultsDir, KnownSamplesFile))
	if err != nil {
		return nil, fmt.Errorf("learn known samples from %s: %w", firstSighting.Name, err)
	}
	me, err := multiengine.New(msigs, multiengine.WithCacheDir(filepath.Join(cfg.CacheDir, "scan-cache", "multiengine")))
	if err != nil {
		return nil, err
	}
	cache := layercache.New(layercache.Dir(filepath.Join(cfg.CacheDir, "scan-cache", "hierarchical")))
	set := &DetectorSet{
		hierOpts: []hierarchical.Option{hierarchical.WithKnownSamples(ks), hierarchical.WithLayerCache(cache)},
		me:       me,
		cache:    cache,
	}
	set.Hierarchical = hierarchical.New(set.hierOpts...)
	// The inventory baseline (Clair / Trivy) and its Anchore variant, whose
	// ClamAV part is the multi-engine baseline's ClamAV engine (same
	// signatures, same per-layer cache). Decompressed layers are shared
	// between scans (and runs) in a bounded cache, and so are SBOMs, keyed
	// by the layers and platform (variants that change only the config
	// share one).
	layers, err := inventory.OpenLayerCache(filepath.Join(cfg.CacheDir, "scan-cache", "inventory-layers"), inventory.DefaultLayerCacheBytes)
	if err != nil {
		return nil, err
	}
	sboms, err := inventory.OpenSBOMCache(filepath.Join(cfg.CacheDir, "scan-cache", "inventory-sbom"), inventory.DefaultSBOMCacheBytes)
	if err != nil {
		return nil, err
	}
	inv := inventory.New(inventory.WithLayerCache(layers), inventory.WithSBOMCache(sboms))
	set.inv, set.sboms = inv, sboms
	set.Detectors = []detectors.Detector{
		digest.NewImage(sigs),
		digest.NewLayer(sigs),
		prebuildDetector{},
		set.Hierarchical,
		inv,
		inventory.NewWithClamAV(inv, me),
		me,
	}
	return set, nil
}

func learnKnownSamples(ctx context.Context, img v1.Image, layers []int, path string) ([]hierarchical.KnownSample, error) {
	ks, err := hierarchical.LearnKnownSamples(ctx, img, layers)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := hierarchical.WriteKnownSamples(f, ks); err != nil {
		f.Close()
		return nil, err
	}
	return ks, f.Close()
}

// Ablation variants of the hierarchical detector are named
// "hierarchical-without-<signal>" (every signal but one) and
// "hierarchical-only-<signal>" (one signal alone).
const (
	AblationAll     = "hierarchical-all-signals"
	AblationWithout = "hierarchical-without-"
	AblationOnly    = "hierarchical-only-"
)

// Ablation returns the hierarchical detector with each signal switched off
// in turn and with each signal alone, sharing the full detector's options
// and layer cache (a layer's per-file analysis does not depend on the
// signals, so every variant replays what the first scan cached). Their
// verdicts carry no findings: ablation records hold decisions, scores and
// blamed layers, and the full detector's records hold the evidence.
func (s *DetectorSet) Ablation() []detectors.Detector {
	all := hierarchical.AllSignals()
	out := []detectors.Detector{slimDetector{s.Hierarchical, AblationAll}}
	for _, sig := range all {
		var rest []string
		for _, o := range all {
			if o != sig {
				rest = append(rest, o)
			}
		}
		out = append(out,
			slimDetector{hierarchical.New(append(s.hierOpts[:len(s.hierOpts):len(s.hierOpts)], hierarchical.WithSignals(rest...))...), AblationWithout + sig},
			slimDetector{hierarchical.New(append(s.hierOpts[:len(s.hierOpts):len(s.hierOpts)], hierarchical.WithSignals(sig))...), AblationOnly + sig},
		)
	}
	return append(out, slimDetector{s.SampleBlind(), hierarchical.SampleBlindName})
}

// SampleBlind is the full hierarchical detector without the paper's
// sample's own indicators (its binary name, pool host and port, miner
// repository) and without the hashes learned from the first sighting: how
// much of experiments 1-3 rests on knowing the sample.
func (s *DetectorSet) SampleBlind() detectors.Detector {
	return hierarchical.New(append(s.hierOpts[:len(s.hierOpts):len(s.hierOpts)], hierarchical.WithSampleBlind())...)
}

// slimDetector renames a detector and drops its verdicts' findings and info;
// its records also leave out the layer list (the manifest digest names the
// image, and the full detector's records carry the layers).
type slimDetector struct {
	d    detectors.Detector
	name string
}

// slimRecords marks a detector whose records leave out the layer list.
type slimRecords interface{ slimRecords() }

func (slimDetector) slimRecords() {}

func (s slimDetector) Name() string    { return s.name }
func (s slimDetector) Version() string { return s.d.Version() }
func (s slimDetector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	v, err := s.d.Scan(ctx, img)
	v.Findings, v.Info = nil, nil
	return v, err
}
