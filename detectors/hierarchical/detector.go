package hierarchical

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

const (
	// Name and Version identify the detector in records.
	Name    = "hierarchical"
	Version = "0.6.0"

	// DefaultMaxScriptBytes bounds the shell text parsed per script file.
	DefaultMaxScriptBytes int64 = 1 << 20
	// maxFindingsPerRule bounds what a verdict carries per rule; the score
	// is capped long before that, the rest only bloats records.
	maxFindingsPerRule = 25
)

// Detector is the hierarchical detector. It holds only options, so one value
// can scan many images concurrently.
type Detector struct {
	opts options
}

type options struct {
	walk           []layers.WalkOption
	threshold      float64
	maxScriptBytes int64
	cache          *layercache.Cache
	// signals enabled (nil: all); signalErr is an unknown name given to
	// WithSignals, reported by Scan.
	signals   map[string]bool
	signalErr error
	// known samples for the hash signal (matched after the walk, never
	// part of the cache key).
	known *knownSet
	// sampleBlind drops the paper sample's indicators (blind.go).
	sampleBlind bool
	// dynamic is the dynamic signal (dynamic.go), nil when off.
	dynamic DynamicFunc
	// dynamicVersion is the dynamic signal's version (WithDynamic).
	dynamicVersion string
}

// Option configures a Detector.
type Option func(*options)

// WithWalkOptions passes limits to the image walker.
func WithWalkOptions(opts ...layers.WalkOption) Option {
	return func(o *options) { o.walk = append(o.walk, opts...) }
}

// WithThreshold changes the score at which an image is Malicious.
func WithThreshold(t float64) Option { return func(o *options) { o.threshold = t } }

// WithMaxScriptBytes bounds the shell text parsed per script file; larger
// scripts get a not-scanned finding.
func WithMaxScriptBytes(n int64) Option { return func(o *options) { o.maxScriptBytes = n } }

// WithLayerCache sets the cache of per-layer results (nil: no cache). The
// default is a private in-memory cache with the layercache.New
// defaults; pass one cache to several detectors or processes' scans to share
// it. Cached layers are replayed without opening their blobs; verdicts are
// identical to uncached scans.
func WithLayerCache(c *layercache.Cache) Option { return func(o *options) { o.cache = c } }

// WithCacheDir is WithLayerCache with a new cache that also keeps its records
// in dir, so later processes skip layers this one analysed.
func WithCacheDir(dir string) Option {
	return func(o *options) { o.cache = layercache.New(layercache.Dir(dir)) }
}

// New returns a hierarchical detector.
func New(opts ...Option) *Detector {
	o := options{threshold: Threshold, maxScriptBytes: DefaultMaxScriptBytes, cache: layercache.New()}
	for _, opt := range opts {
		opt(&o)
	}
	return &Detector{opts: o}
}

var _ detectors.Detector = (*Detector)(nil)

// Name is "hierarchical", or SampleBlindName with WithSampleBlind; with
// WithDynamic, DynamicSuffix follows.
func (d *Detector) Name() string {
	n := Name
	if d.opts.sampleBlind {
		n = SampleBlindName
	}
	if d.opts.dynamic != nil {
		n += DynamicSuffix
	}
	return n
}

// Version is the package's Version, or with WithDynamic the
// DynamicVersion of the dynamic signal's version ("0.6.0+d0.1.2.c1").
func (d *Detector) Version() string {
	if d.opts.dynamic != nil {
		return DynamicVersion(d.opts.dynamicVersion)
	}
	return Version
}

// DynamicVersion is the version of the detector with WithDynamic whose
// dynamic signal has version dyn: Version, "+d", dyn, and the revision of
// how the two are combined.
func DynamicVersion(dyn string) string { return Version + "+d" + dyn + "." + combination }

// Cache returns the detector's layer cache (nil if disabled), e.g. for its
// Stats.
func (d *Detector) Cache() *layercache.Cache { return d.opts.cache }

// fileAnalysisVersion versions what AnalyzeFile computes and how fileResult
// is encoded. Bump it with any change to the per-file analysis that Version
// does not record, or cached layers would replay the old results.
const fileAnalysisVersion = 10

// FileAnalysisVersion is fileAnalysisVersion for detectors that apply this
// detector's analysis to other inputs and must version with it (the
// dockerfile detector's Version carries it next to Version).
const FileAnalysisVersion = fileAnalysisVersion

// analyzerKey names everything that changes a layer's cached file results:
// detector version, file analysis version, the script limit and the data
// lists and rule table (so an edited list never meets stale records).
func (d *Detector) analyzerKey() string {
	return fmt.Sprintf("%s/%s/files-%d/max-script-bytes=%d/data=%s",
		Name, Version, fileAnalysisVersion, d.opts.maxScriptBytes, dataDigest)
}

// Scan walks img once and judges it: per-file analysis while streaming, then
// history, config and cross-layer correlation on the final view.
func (d *Detector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	if err := d.opts.signalErr; err != nil {
		return detectors.Verdict{}, err
	}
	if ks := d.opts.known; ks != nil && ks.err != nil {
		return detectors.Verdict{}, ks.err
	}
	if err := d.opts.cache.Check(); err != nil {
		return detectors.Verdict{}, fmt.Errorf("hierarchical: %w", err)
	}
	s, err := d.walk(ctx, img)
	if errors.Is(err, layers.ErrCacheRecord) {
		// The walker dropped the bad record; this walk reads the layer.
		s, err = d.walk(ctx, img)
	}
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("hierarchical: walk image: %w", err)
	}
	cf := s.res.Config // read by the walker, bounded by its MaxConfigBytes
	s.scanLinks()
	s.scanHistory()
	s.scanConfig(cf.Config)
	s.correlate(cf.Config)
	s.scanStartGraph(cf.Config)
	s.reportIssues()
	if d.opts.dynamic == nil {
		return s.verdict(), nil
	}
	info, err := s.addDynamic(ctx, img)
	if err != nil {
		return detectors.Verdict{}, err
	}
	v := s.verdict()
	for k, val := range info {
		v.Info["dynamic_"+k] = val
	}
	return v, nil
}

// walk runs stage 1: the walk with per-file analysis, replaying cached layers.
func (d *Detector) walk(ctx context.Context, img v1.Image) (*scan, error) {
	s := &scan{d: d, seen: map[string]bool{}, scripts: map[*layers.Entry]scriptRuns{}}
	res, err := layers.WalkAnalyzer(ctx, img, layercache.Wrap(d.opts.cache, d.analyzerKey(), s), d.opts.walk...)
	if err != nil {
		return nil, err
	}
	s.res = res
	return s, nil
}

// scan is the state of one Scan call.
type scan struct {
	d        *Detector
	res      *layers.Result
	findings []pending
	seen     map[string]bool
	warnings []string
	// scripts holds, per file version, the programs a shell script runs
	// (from its cached per-file result), for the ENTRYPOINT -> script ->
	// program chain.
	scripts map[*layers.Entry]scriptRuns
	// graph is the start graph (startgraph.go), byEntry the rules found
	// per file version; both are set after the walk.
	graph   *startGraph
	byEntry map[*layers.Entry][]string
}

// pending is a finding whose file may still be hidden by a later layer; the
// entry pointer is resolved once the walk is over.
type pending struct {
	f     detectors.Finding
	entry *layers.Entry
}

// add records a finding unless its rule's signal is switched off, so nothing
// downstream (correlation, scoring, blame) ever sees disabled evidence.
func (s *scan) add(rule string, layer int, path, createdBy string, entry *layers.Entry, evidence string) {
	r, ok := ruleByID[rule]
	if !ok {
		panic("hierarchical: unknown rule " + rule)
	}
	if !s.d.opts.signalOn(r.Signal) {
		return
	}
	if s.d.opts.sampleBlind && (rule == RuleFuzzyHash || !blindKeeps(rule, evidence)) {
		return
	}
	key := strings.Join([]string{rule, strconv.Itoa(layer), path, evidence}, "\x00")
	if s.seen[key] {
		return
	}
	s.seen[key] = true
	s.findings = append(s.findings, pending{
		f: detectors.Finding{
			Category: r.Category, Rule: rule, Weight: r.Weight, Evidence: evidence,
			Layer: layer, CreatedBy: createdBy, Path: path,
		},
		entry: entry,
	})
}

// reportIssues turns every walker issue that left content unscanned or
// unverified into a not-scanned finding on its layer, with the issue kind
// as the evidence's prefix and Integrity set from Issue.Integrity, so
// detectors.Decide makes the verdict incomplete or invalid.
//
// Findings in a layer whose blob hashed to other than the manifest's
// digest (LayerInfo.Mismatch) are dropped first: they are about bytes that
// are not the image's (a runtime refuses to pull them), so the verdict is
// invalid unless other layers or the config make it malicious.
func (s *scan) reportIssues() {
	kept := s.findings[:0]
	for _, p := range s.findings {
		if l := p.f.Layer; l < 0 || l >= len(s.res.Layers) || !s.res.Layers[l].Mismatch {
			kept = append(kept, p)
		}
	}
	s.findings = kept
	var warnings []string
	for _, is := range s.res.Issues {
		if !is.NotScanned() {
			warnings = append(warnings, string(is.Kind)+": "+is.Detail)
			continue
		}
		if is.Kind == layers.IssuePathEscape {
			// A crafted entry is evidence too, beside the integrity error.
			s.add(RulePathEscape, is.Layer, is.Path, "", nil, is.Detail)
		}
		n := len(s.findings)
		s.add(RuleNotScanned, is.Layer, is.Path, "", nil, string(is.Kind)+": "+is.Detail)
		if is.Integrity() && len(s.findings) > n {
			s.findings[n].f.Integrity = true
		}
	}
	s.warnings = warnings
}

// verdict resolves provenance, scores and decides.
func (s *scan) verdict() detectors.Verdict {
	out := make([]detectors.Finding, 0, len(s.findings))
	for _, p := range s.findings {
		f := p.f
		if f.Layer >= 0 && f.Layer < len(s.res.Layers) {
			l := s.res.Layers[f.Layer]
			f.DiffID = l.DiffID.String()
			if f.CreatedBy == "" {
				f.CreatedBy = l.CreatedBy
			}
		}
		if p.entry != nil && p.entry.Hidden {
			f.Hidden, f.RemovedBy = true, p.entry.RemovedBy
		}
		f.Reach = s.reachOf(p)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Layer != b.Layer {
			return a.Layer < b.Layer
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Evidence < b.Evidence
	})

	score, perLayer := Score(out)
	v := detectors.Verdict{
		Score:     score,
		Threshold: s.d.opts.threshold,
		Info: map[string]string{
			"strong_weight": strconv.FormatFloat(StrongWeight, 'g', -1, 64),
			"generic_cap":   strconv.FormatFloat(GenericCap, 'g', -1, 64),
			"bytes_read":    strconv.FormatInt(s.res.Bytes, 10),
			"layers":        strconv.Itoa(len(s.res.Layers)),
			"signals":       strings.Join(s.d.Signals(), ","),
		},
	}
	if s.d.opts.sampleBlind {
		v.Info["sample_blind"] = "true"
	}
	if ks := s.d.opts.known; ks.len() > 0 && !s.d.opts.sampleBlind {
		v.Info["known_samples"] = strconv.Itoa(ks.len())
		v.Info["known_samples_digest"] = ks.digest
	}
	// Decide sees every finding, also those dropped from the verdict.
	v.Decision = detectors.Decide(score, v.Threshold, out)
	kept := map[string]int{}
	dropped := 0
	for _, f := range out {
		if kept[f.Rule] >= maxFindingsPerRule {
			dropped++
			continue
		}
		kept[f.Rule]++
		v.Findings = append(v.Findings, f)
	}
	if dropped > 0 {
		v.Info["findings_dropped"] = strconv.Itoa(dropped)
	}
	if len(s.warnings) > 0 {
		v.Info["warnings"] = strings.Join(s.warnings, "; ")
	}
	if v.Decision == detectors.Malicious {
		for l, ls := range perLayer {
			if ls >= StrongWeight {
				v.BlamedLayers = append(v.BlamedLayers, l)
			}
		}
		sort.Ints(v.BlamedLayers)
	}
	return v
}

// Score returns the image score and the same score per layer, which decides
// blame. Each rule contributes the sum of its findings' weights capped at its
// Cap. Findings in data files (Reach == ReachData) are summed per rule apart
// from the others and count at most DataCap together; generic rules at most
// GenericCap; support rules at most SupportCap. Generic and data evidence
// together (the context) count at most GenericCap and never more than the
// core (specific rules outside data files) and support evidence beside
// them. Findings of unknown rules count with their own weight, uncapped, as
// core.
func Score(findings []detectors.Finding) (float64, map[int]float64) {
	all := map[scoreKey]float64{}
	perLayer := map[int]map[scoreKey]float64{}
	for _, f := range findings {
		k := scoreKey{f.Rule, f.Reach == detectors.ReachData}
		all[k] += f.Weight
		if f.Layer == detectors.NoLayer {
			continue
		}
		if perLayer[f.Layer] == nil {
			perLayer[f.Layer] = map[scoreKey]float64{}
		}
		perLayer[f.Layer][k] += f.Weight
	}
	layers := map[int]float64{}
	for l, sums := range perLayer {
		layers[l] = capped(sums, false)
	}
	return capped(all, true), layers
}

type scoreKey struct {
	rule string
	data bool
}

// capped scores one set of sums; bounded applies the core+support bound to
// the context (the image score). A layer's score, which decides blame, is
// not bounded so: a layer that only adds the dropper is still blamed when
// the image is malicious.
func capped(sums map[scoreKey]float64, bounded bool) float64 {
	core, support, generic, data := 0.0, 0.0, 0.0, 0.0
	for k, sum := range sums {
		r, ok := ruleByID[k.rule]
		switch {
		case !ok:
			core += sum
		case k.data && !r.Generic:
			data += math.Min(sum, r.Cap)
		case r.Generic:
			generic += math.Min(sum, r.Cap)
		case r.Support:
			support += math.Min(sum, r.Cap)
		default:
			core += math.Min(sum, r.Cap)
		}
	}
	support = math.Min(support, SupportCap)
	context := math.Min(math.Min(generic, GenericCap)+math.Min(data, DataCap), GenericCap)
	if bounded {
		context = math.Min(context, core+support)
	}
	return core + support + context
}
