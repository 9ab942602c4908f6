package multiengine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// Identity of the detector; results are keyed by it.
const (
	Name    = "multiengine"
	Version = "1.0.0"
)

// Default limits of what is written to disk for the engines. Larger content
// is not scanned and is reported as a not-scanned finding.
const (
	DefaultMaxFileBytes  int64 = 100 << 20 // ClamAV's own default --max-filesize
	DefaultMaxLayerBytes int64 = 4 << 30
)

// Option configures New.
type Option func(*options)

type options struct {
	cacheDir      string
	tempDir       string
	maxFileBytes  int64
	maxLayerBytes int64
	maxEntries    int
	clamscan      string
	yara          string
}

// WithCacheDir keeps per-layer results on disk in dir as well as in memory,
// so they survive the process (a layercache directory: one record file per
// cache key).
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithTempDir is where layers are written for the engines (default
// os.TempDir()); each layer gets a private directory that is removed after
// its scan.
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithMaxFileBytes bounds one file written for the engines.
func WithMaxFileBytes(n int64) Option { return func(o *options) { o.maxFileBytes = n } }

// WithMaxLayerBytes bounds the bytes written for one layer.
func WithMaxLayerBytes(n int64) Option { return func(o *options) { o.maxLayerBytes = n } }

// WithMaxEntries bounds the tar entries read per layer (the walker's limit).
func WithMaxEntries(n int) Option { return func(o *options) { o.maxEntries = n } }

// WithEngines names the clamscan and yara programs (looked up in PATH when
// not absolute); empty keeps the default.
func WithEngines(clamscan, yara string) Option {
	return func(o *options) { o.clamscan, o.yara = clamscan, yara }
}

// Stats count the work a Detector has done since New.
type Stats struct {
	LayersScanned int64 // layers written out and run through the engines
	MemoryHits    int64 // layers answered from the in-memory cache
	DiskHits      int64 // layers answered from the on-disk cache
	ClamscanRuns  int64
	YaraRuns      int64
}

// Detector is the "multiengine" baseline. It is safe for concurrent use;
// Close removes its database files.
type Detector struct {
	sigs      Signatures
	sigDigest string
	bySHA     map[string]*FileSignature
	bySig     map[string]*FileSignature // ClamAV and YARA names
	opts      options
	eng       *engines
	dbDir     string
	db        dbFiles
	// cache keeps each layer's result with the layer's entries, so a cached
	// layer is replayed without opening its blob; concurrent scans of a
	// shared layer wait for the one scanning it.
	cache *layercache.Cache

	layersScanned, clamRuns, yaraRuns atomic.Int64
}

var _ detectors.Detector = (*Detector)(nil)

// New returns the detector for sigs. It fails with "clamscan not found: run
// make setup" (wrapping ErrEngineNotFound) when an engine is missing.
func New(sigs Signatures, opts ...Option) (*Detector, error) {
	o := options{maxFileBytes: DefaultMaxFileBytes, maxLayerBytes: DefaultMaxLayerBytes, maxEntries: layers.DefaultMaxEntries}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxFileBytes <= 0 || o.maxLayerBytes <= 0 {
		return nil, fmt.Errorf("%s: file and layer byte limits must be positive", Name)
	}
	eng, err := findEngines(context.Background(), o.clamscan, o.yara)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	d := &Detector{sigs: sigs, sigDigest: sigs.Digest(), opts: o, eng: eng,
		bySHA: map[string]*FileSignature{}, bySig: map[string]*FileSignature{}}
	for i := range sigs.Files {
		f := &sigs.Files[i]
		d.bySHA[f.SHA256] = f
		for _, n := range []string{f.ClamAVHash, f.ClamAVBody, f.YaraRule} {
			if n != "" {
				d.bySig[n] = f
			}
		}
	}
	if d.dbDir, err = os.MkdirTemp(o.tempDir, "multiengine-db-"); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if d.db, err = writeDB(d.dbDir, sigs); err != nil {
		os.RemoveAll(d.dbDir)
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	var copts []layercache.Option
	if o.cacheDir != "" {
		if err := os.MkdirAll(o.cacheDir, 0o755); err != nil {
			os.RemoveAll(d.dbDir)
			return nil, fmt.Errorf("%s: cache dir: %w", Name, err)
		}
		copts = append(copts, layercache.Dir(o.cacheDir))
	}
	d.cache = layercache.New(copts...)
	return d, nil
}

// Close removes the database files written by New.
func (d *Detector) Close() error { return os.RemoveAll(d.dbDir) }

func (d *Detector) Name() string    { return Name }
func (d *Detector) Version() string { return Version }

// Stats returns the work counters.
func (d *Detector) Stats() Stats {
	cs := d.cache.Stats()
	return Stats{LayersScanned: d.layersScanned.Load(), MemoryHits: cs.Hits, DiskHits: cs.DiskHits,
		ClamscanRuns: d.clamRuns.Load(), YaraRuns: d.yaraRuns.Load()}
}

// Scan runs every layer of img through the engines (or replays the layer's
// cached result) in one walk of the image, and reports a verdict:
// malicious when any engine fires. Every file a layer holds is scanned,
// including files a later layer deletes (a vendor scanning the layer
// tarball sees them too); the walk's layer changes say which are hidden.
func (d *Detector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	if err := d.cache.Check(); err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", Name, err)
	}
	s, res, err := d.walk(ctx, img)
	if errors.Is(err, layers.ErrCacheRecord) {
		// The cache dropped the bad record; this walk scans the layer.
		s, res, err = d.walk(ctx, img)
	}
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", Name, err)
	}
	gaps := map[int][]gap{}
	for _, is := range res.Issues {
		if is.NotScanned() && is.Layer != layers.NoLayer {
			gaps[is.Layer] = append(gaps[is.Layer], gap{Kind: string(is.Kind), Path: is.Path, Detail: is.Detail, integrity: is.Integrity()})
		}
	}

	var fs []detectors.Finding
	var blamed []int
	perEngine := map[string]int{}
	notScanned, nCached := 0, 0
	var bytesScanned int64
	for i := range res.Layers {
		li := &res.Layers[i]
		r := s.results[i]
		if r == nil {
			return detectors.Verdict{}, fmt.Errorf("%s: layer %d has no result", Name, i)
		}
		if li.Cached {
			nCached++
		}
		bytesScanned += r.Bytes
		diffID, createdBy := li.DiffID.String(), li.CreatedBy
		for _, h := range r.Hits {
			f := detectors.Finding{Category: detectors.CategorySignature, Rule: h.Rule, Weight: 1, Evidence: h.Evidence,
				Layer: i, DiffID: diffID, CreatedBy: createdBy, Path: h.Path}
			if e := addedFile(li, h.Path); e != nil && e.Hidden {
				f.Hidden, f.RemovedBy = true, e.RemovedBy
			}
			fs = append(fs, f)
			perEngine[h.Engine]++
		}
		if len(r.Hits) > 0 {
			blamed = append(blamed, i)
		}
		for _, g := range append(gaps[i], r.NotScanned...) {
			notScanned++
			fs = append(fs, detectors.Finding{Category: detectors.CategoryNotScanned, Rule: g.Kind, Evidence: g.Detail,
				Layer: i, DiffID: diffID, CreatedBy: createdBy, Path: g.Path, Integrity: g.integrity})
		}
	}
	sort.SliceStable(fs, func(a, b int) bool {
		if fs[a].Layer != fs[b].Layer {
			return fs[a].Layer < fs[b].Layer
		}
		if fs[a].Path != fs[b].Path {
			return fs[a].Path < fs[b].Path
		}
		return fs[a].Rule < fs[b].Rule
	})

	var fired []string
	for _, e := range []string{EngineClamAV, EngineSHA256, EngineYARA} {
		if perEngine[e] > 0 {
			fired = append(fired, e)
		}
	}
	decide := func(need int) detectors.Decision {
		return detectors.Decide(float64(len(fired)), float64(need), fs)
	}
	info := d.info()
	info["engines_fired"] = strings.Join(fired, ",")
	info["engines_fired_count"] = strconv.Itoa(len(fired))
	info["verdict_1plus"] = string(decide(1))
	info["verdict_2plus"] = string(decide(2))
	for _, e := range []string{EngineSHA256, EngineClamAV, EngineYARA} {
		info["hits_"+e] = strconv.Itoa(perEngine[e])
	}
	info["not_scanned"] = strconv.Itoa(notScanned)
	info["layers"] = strconv.Itoa(len(res.Layers))
	info["layers_cached"] = strconv.Itoa(nCached)
	info["layers_scanned"] = strconv.Itoa(len(res.Layers) - nCached)
	info["bytes_scanned"] = strconv.FormatInt(bytesScanned, 10)
	if len(blamed) == 0 {
		blamed = nil
	}
	return detectors.Verdict{Decision: decide(1), Score: float64(len(fired)), Threshold: 1,
		Findings: fs, BlamedLayers: blamed, Info: info}, nil
}

// addedFile returns the last regular file layer li wrote at path p (the
// version a hit in that layer is about), nil if none.
func addedFile(li *layers.LayerInfo, p string) *layers.Entry {
	added := li.Changes.Added
	for k := len(added) - 1; k >= 0; k-- {
		if e := added[k]; e.Path == p && e.Type == layers.TypeFile {
			return e
		}
	}
	return nil
}

// info is the per-detector part of Verdict.Info. Command lines are exact
// except for the two temporary directories, shown as $DB and $LAYER_DIR.
func (d *Detector) info() map[string]string {
	clam := []string{"clamscan"}
	clam = append(clam, clamArgs(d.opts.maxFileBytes)...)
	for _, db := range d.db.clam {
		clam = append(clam, "-d", "$DB/"+filepath.Base(db))
	}
	clam = append(clam, "-r", "$LAYER_DIR")
	yar := append(append([]string{"yara"}, yaraArgs()...), "$DB/"+filepath.Base(d.db.yara), "$LAYER_DIR")
	nBody, nRules := 0, 0
	for _, f := range d.sigs.Files {
		if f.ClamAVBody != "" {
			nBody++
		}
		if f.YaraRule != "" {
			nRules++
		}
	}
	return map[string]string{
		"signatures_digest":     d.sigDigest,
		"signatures_image":      d.sigs.Image,
		"sha256_signatures":     strconv.Itoa(len(d.sigs.Files)),
		"clamav_hsb_signatures": strconv.Itoa(len(d.sigs.Files)),
		"clamav_ndb_signatures": strconv.Itoa(nBody),
		"yara_rules":            strconv.Itoa(nRules),
		"engine_sha256":         "crypto/sha256 " + runtime.Version(),
		"engine_clamav":         d.eng.clamVersion,
		"engine_yara":           d.eng.yaraVersion,
		"cmd_clamav":            strings.Join(clam, " "),
		"cmd_yara":              strings.Join(yar, " "),
		"max_file_bytes":        strconv.FormatInt(d.opts.maxFileBytes, 10),
		"max_layer_bytes":       strconv.FormatInt(d.opts.maxLayerBytes, 10),
	}
}
