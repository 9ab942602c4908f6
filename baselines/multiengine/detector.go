package multiengine

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
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
// so they survive the process (one JSON file per cache key).
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

	mu       sync.Mutex
	mem      map[string]*layerResult
	inflight map[string]chan struct{}

	layersScanned, memHits, diskHits, clamRuns, yaraRuns atomic.Int64
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
		bySHA: map[string]*FileSignature{}, bySig: map[string]*FileSignature{},
		mem: map[string]*layerResult{}, inflight: map[string]chan struct{}{}}
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
	if o.cacheDir != "" {
		if err := os.MkdirAll(o.cacheDir, 0o755); err != nil {
			os.RemoveAll(d.dbDir)
			return nil, fmt.Errorf("%s: cache dir: %w", Name, err)
		}
	}
	return d, nil
}

// Close removes the database files written by New.
func (d *Detector) Close() error { return os.RemoveAll(d.dbDir) }

func (d *Detector) Name() string    { return Name }
func (d *Detector) Version() string { return Version }

// Stats returns the work counters.
func (d *Detector) Stats() Stats {
	return Stats{LayersScanned: d.layersScanned.Load(), MemoryHits: d.memHits.Load(), DiskHits: d.diskHits.Load(),
		ClamscanRuns: d.clamRuns.Load(), YaraRuns: d.yaraRuns.Load()}
}

// hit is one engine match in a layer, in image terms.
type hit struct {
	Engine   string `json:"engine"`
	Rule     string `json:"rule"`
	Path     string `json:"path"`
	Evidence string `json:"evidence"`
}

// gap is content of a layer that was not scanned.
type gap struct {
	Kind   string `json:"kind"`
	Path   string `json:"path,omitempty"`
	Detail string `json:"detail"`
}

// layerResult is everything learned from one layer, independent of the
// image it is in: what is cached.
type layerResult struct {
	DiffID     string `json:"diff_id"`
	Hits       []hit  `json:"hits,omitempty"`
	NotScanned []gap  `json:"not_scanned,omitempty"`
	// What the layer removes or rewrites in lower layers, sorted, so a
	// finding's Hidden/RemovedBy can be computed without reading the layer
	// again: whiteout targets, opaque directories, non-directory paths.
	Whiteouts []string `json:"whiteouts,omitempty"`
	Opaque    []string `json:"opaque,omitempty"`
	Written   []string `json:"written,omitempty"`
	Files     int      `json:"files"`
	Bytes     int64    `json:"bytes"`
	// Timing of the scan: reading and writing the layer, running the
	// engines, in total.
	WriteSeconds  float64 `json:"write_seconds"`
	EngineSeconds float64 `json:"engine_seconds"`
	Seconds       float64 `json:"seconds"`
}

func has(sorted []string, s string) bool {
	i := sort.SearchStrings(sorted, s)
	return i < len(sorted) && sorted[i] == s
}

// removes reports whether the layer deletes p of a lower layer, with the
// walker's rules: a whiteout of p or of a parent, an opaque parent, or a
// non-directory written over a parent.
func (r *layerResult) removes(p string) bool {
	for a := p; ; {
		if has(r.Whiteouts, a) {
			return true
		}
		parent := path.Dir(a)
		if parent == "." || parent == "/" {
			parent = ""
		}
		if has(r.Opaque, parent) || (parent != "" && has(r.Written, parent)) {
			return true
		}
		if parent == "" {
			return false
		}
		a = parent
	}
}

// cacheKey names a layer result: the layer content, the signatures, the
// engines and every option that changes what is scanned.
func (d *Detector) cacheKey(diffID string) string {
	s := strings.Join([]string{Name, Version, diffID, d.sigDigest, d.eng.clamKey, d.eng.yaraVersion,
		strconv.FormatInt(d.opts.maxFileBytes, 10), strconv.FormatInt(d.opts.maxLayerBytes, 10), strconv.Itoa(d.opts.maxEntries)}, "\x00")
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// layer returns the result for one layer from the memory cache, the disk
// cache or a scan; concurrent requests for the same layer share one scan.
func (d *Detector) layer(ctx context.Context, l v1.Layer, diffID string) (r *layerResult, cached bool, err error) {
	key := d.cacheKey(diffID)
	var ch chan struct{}
	for {
		d.mu.Lock()
		if r := d.mem[key]; r != nil {
			d.mu.Unlock()
			d.memHits.Add(1)
			return r, true, nil
		}
		wait, busy := d.inflight[key]
		if !busy {
			ch = make(chan struct{})
			d.inflight[key] = ch
			d.mu.Unlock()
			break
		}
		d.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	defer func() {
		d.mu.Lock()
		if err == nil {
			d.mem[key] = r
		}
		delete(d.inflight, key)
		close(ch)
		d.mu.Unlock()
	}()
	file := ""
	if d.opts.cacheDir != "" {
		file = filepath.Join(d.opts.cacheDir, key+".json")
		if b, err := os.ReadFile(file); err == nil {
			var lr layerResult
			if json.Unmarshal(b, &lr) == nil && lr.DiffID == diffID {
				d.diskHits.Add(1)
				return &lr, true, nil
			}
		}
	}
	if r, err = d.scanLayer(ctx, l, diffID); err != nil {
		return nil, false, err
	}
	if file != "" {
		if err := writeAtomic(file, r); err != nil {
			return nil, false, fmt.Errorf("layer cache: %w", err)
		}
	}
	return r, false, nil
}

func writeAtomic(file string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// scanLayer writes the layer's regular files to a private directory under
// names made from a counter (never from tar paths), runs clamscan and yara
// once over the directory, concurrently, and matches SHA-256 in-process
// while writing. Every file the layer holds is scanned, including files a
// later layer deletes: a vendor scanning the layer tarball sees them too.
func (d *Detector) scanLayer(ctx context.Context, l v1.Layer, diffID string) (*layerResult, error) {
	start := time.Now()
	d.layersScanned.Add(1)
	dir, err := os.MkdirTemp(d.opts.tempDir, "multiengine-layer-")
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", diffID, err)
	}
	defer os.RemoveAll(dir)

	r := &layerResult{DiffID: diffID}
	var (
		paths        []string // file counter -> image path
		skipped      int
		skippedBytes int64
		firstSkipped string
		buf          = make([]byte, 1<<20)
	)
	tl := &teeLayer{Layer: l, diffID: diffID}
	one, err := mutate.AppendLayers(empty.Image, tl)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", diffID, err)
	}
	visit := func(_ *layers.LayerInfo, e *layers.Entry, content io.Reader) error {
		switch {
		case e.Size == 0:
			// Engines and signatures ignore empty files.
			return nil
		case e.Size > d.opts.maxFileBytes:
			r.NotScanned = append(r.NotScanned, gap{Kind: "file-too-large", Path: e.Path,
				Detail: fmt.Sprintf("%d bytes, more than the %d-byte file limit", e.Size, d.opts.maxFileBytes)})
			return nil
		case r.Bytes+e.Size > d.opts.maxLayerBytes:
			if skipped == 0 {
				firstSkipped = e.Path
			}
			skipped++
			skippedBytes += e.Size
			return nil
		}
		name := fmt.Sprintf("f%07d", len(paths))
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.CopyBuffer(f, io.TeeReader(content, h), buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", e.Path, err)
		}
		paths = append(paths, e.Path)
		r.Files++
		r.Bytes += n
		sum := hex.EncodeToString(h.Sum(nil))
		if s := d.bySHA[sum]; s != nil {
			r.Hits = append(r.Hits, hit{Engine: EngineSHA256, Rule: EngineSHA256, Path: e.Path,
				Evidence: fmt.Sprintf("sha256 %s is %s of layer %d of the first sighting", sum, s.Path, s.Layer)})
		}
		return nil
	}
	res, err := layers.Walk(ctx, one, visit, layers.WithMaxFileBytes(d.opts.maxFileBytes),
		layers.WithMaxEntries(d.opts.maxEntries), layers.WithMaxTotalBytes(0))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", diffID, err)
	}
	for _, is := range res.Issues {
		if is.Limit() || is.Kind == layers.IssuePathEscape {
			r.NotScanned = append(r.NotScanned, gap{Kind: string(is.Kind), Path: is.Path, Detail: is.Detail})
		}
	}
	if skipped > 0 {
		r.NotScanned = append(r.NotScanned, gap{Kind: "layer-bytes-limit", Path: firstSkipped,
			Detail: fmt.Sprintf("%d files (%d bytes) past the %d-byte layer limit were not scanned, the first is shown", skipped, skippedBytes, d.opts.maxLayerBytes)})
	}
	ch := tl.changes()
	r.Whiteouts, r.Opaque, r.Written = ch.whiteouts, ch.opaque, ch.written
	r.WriteSeconds = time.Since(start).Seconds()

	if len(paths) > 0 {
		if err := d.runEngines(ctx, dir, paths, r); err != nil {
			return nil, fmt.Errorf("layer %s: %w", diffID, err)
		}
	}
	r.Seconds = time.Since(start).Seconds()
	r.EngineSeconds = r.Seconds - r.WriteSeconds
	return r, nil
}

// runEngines runs clamscan and yara concurrently over dir and adds their
// hits to r.
func (d *Detector) runEngines(ctx context.Context, dir string, paths []string, r *layerResult) error {
	var (
		wg                sync.WaitGroup
		clamHits, yarHits []engineHit
		yarErrs           []scanError
		clamErr, yaraErr  error
	)
	if len(d.db.clam) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.clamRuns.Add(1)
			clamHits, clamErr = d.eng.runClamscan(ctx, d.opts.maxFileBytes, d.db.clam, dir)
		}()
	}
	d.yaraRuns.Add(1)
	yarHits, yarErrs, yaraErr = d.eng.runYara(ctx, d.db.yara, dir)
	wg.Wait()
	if err := errors.Join(clamErr, yaraErr); err != nil {
		return err
	}
	lookup := func(file string) (string, bool) {
		i, err := strconv.Atoi(strings.TrimPrefix(file, "f"))
		if err != nil || i < 0 || i >= len(paths) || !strings.HasPrefix(file, "f") {
			return "", false
		}
		return paths[i], true
	}
	origin := func(sig string) string {
		if s := d.bySig[sig]; s != nil {
			return fmt.Sprintf(" (learned from %s, layer %d of the first sighting)", s.Path, s.Layer)
		}
		return ""
	}
	for _, h := range clamHits {
		if p, ok := lookup(h.file); ok {
			r.Hits = append(r.Hits, hit{Engine: EngineClamAV, Rule: EngineClamAV + ":" + h.rule, Path: p,
				Evidence: "ClamAV signature " + h.rule + origin(h.rule)})
		}
	}
	for _, h := range yarHits {
		if p, ok := lookup(h.file); ok {
			r.Hits = append(r.Hits, hit{Engine: EngineYARA, Rule: EngineYARA + ":" + h.rule, Path: p,
				Evidence: "YARA rule " + h.rule + origin(h.rule)})
		}
	}
	for _, e := range yarErrs {
		if p, ok := lookup(e.file); ok {
			r.NotScanned = append(r.NotScanned, gap{Kind: "yara-error", Path: p, Detail: e.detail})
		}
	}
	return nil
}

// teeLayer lets one decompression of a layer feed both layers.Walk and a
// header reader that records what the layer deletes (whiteouts, opaque
// directories), which the walker of a single layer applies to nothing.
type teeLayer struct {
	v1.Layer
	diffID string
	mu     sync.Mutex
	got    layerChanges
}

// DiffID returns the diffID from the image config: layers read from an OCI
// layout compute it by decompressing and hashing the whole layer.
func (t *teeLayer) DiffID() (v1.Hash, error) { return v1.NewHash(t.diffID) }

type layerChanges struct{ whiteouts, opaque, written []string }

func (t *teeLayer) changes() layerChanges {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.got
}

func (t *teeLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := t.Layer.Uncompressed()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ch := readChanges(pr)
		// Keep draining so the walker never blocks on the pipe.
		_, _ = io.Copy(io.Discard, pr)
		t.mu.Lock()
		t.got = ch
		t.mu.Unlock()
	}()
	return &teeReadCloser{Reader: io.TeeReader(rc, pw), close: func() error {
		err := rc.Close()
		pw.Close()
		<-done
		return err
	}}, nil
}

type teeReadCloser struct {
	io.Reader
	close func() error
}

func (t *teeReadCloser) Close() error { return t.close() }

// readChanges reads tar headers only, with the walker's path rules.
func readChanges(r io.Reader) layerChanges {
	var ch layerChanges
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		name, ok := layers.NormalizePath(hdr.Name)
		if !ok || name == "" {
			continue
		}
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case base == ".wh..wh..opq":
			ch.opaque = append(ch.opaque, dir)
		case strings.HasPrefix(base, ".wh..wh."):
		case strings.HasPrefix(base, ".wh."):
			ch.whiteouts = append(ch.whiteouts, path.Join(dir, strings.TrimPrefix(base, ".wh.")))
		case hdr.Typeflag == tar.TypeDir, hdr.Typeflag == tar.TypeXHeader, hdr.Typeflag == tar.TypeXGlobalHeader:
		default:
			ch.written = append(ch.written, name)
		}
	}
	for _, s := range [][]string{ch.whiteouts, ch.opaque, ch.written} {
		sort.Strings(s)
	}
	return ch
}

// Scan runs every layer of img through the engines (or takes the layer's
// cached result) and reports a verdict: malicious when any engine fires.
func (d *Detector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: config: %w", Name, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: layers: %w", Name, err)
	}
	createdBy := alignCreatedBy(cf, len(layers))
	// DiffIDs come from the config: v1.Layer.DiffID of a layer read from an
	// OCI layout decompresses and hashes the layer, which would make a
	// cache hit cost a full read.
	configDiffIDs := cf.RootFS.DiffIDs
	if len(configDiffIDs) != len(layers) {
		configDiffIDs = nil
	}
	results := make([]*layerResult, len(layers))
	diffIDs := make([]string, len(layers))
	var nCached int
	var bytesScanned int64
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return detectors.Verdict{}, err
		}
		if configDiffIDs != nil {
			diffIDs[i] = configDiffIDs[i].String()
		} else {
			di, err := l.DiffID()
			if err != nil {
				return detectors.Verdict{}, fmt.Errorf("%s: layer %d diffID: %w", Name, i, err)
			}
			diffIDs[i] = di.String()
		}
		r, cached, err := d.layer(ctx, l, diffIDs[i])
		if err != nil {
			return detectors.Verdict{}, fmt.Errorf("%s: layer %d: %w", Name, i, err)
		}
		if cached {
			nCached++
		}
		results[i] = r
		bytesScanned += r.Bytes
	}

	var fs []detectors.Finding
	var blamed []int
	perEngine := map[string]int{}
	notScanned := 0
	for i, r := range results {
		for _, h := range r.Hits {
			f := detectors.Finding{Category: detectors.CategorySignature, Rule: h.Rule, Weight: 1, Evidence: h.Evidence,
				Layer: i, DiffID: diffIDs[i], CreatedBy: createdBy[i], Path: h.Path}
			for j := i + 1; j < len(results); j++ {
				if results[j].removes(h.Path) {
					f.Hidden, f.RemovedBy = true, j
					break
				}
				if has(results[j].Written, h.Path) {
					break
				}
			}
			fs = append(fs, f)
			perEngine[h.Engine]++
		}
		if len(r.Hits) > 0 {
			blamed = append(blamed, i)
		}
		for _, g := range r.NotScanned {
			notScanned++
			fs = append(fs, detectors.Finding{Category: detectors.CategoryNotScanned, Rule: g.Kind, Evidence: g.Detail,
				Layer: i, DiffID: diffIDs[i], CreatedBy: createdBy[i], Path: g.Path})
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
		switch {
		case len(fired) >= need:
			return detectors.Malicious
		case notScanned > 0:
			return detectors.Incomplete
		}
		return detectors.Clean
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
	info["layers"] = strconv.Itoa(len(layers))
	info["layers_cached"] = strconv.Itoa(nCached)
	info["layers_scanned"] = strconv.Itoa(len(layers) - nCached)
	info["bytes_scanned"] = strconv.FormatInt(bytesScanned, 10)
	if len(blamed) == 0 {
		blamed = nil
	}
	return detectors.Verdict{Decision: decide(1), Score: float64(len(fired)), Threshold: 1,
		Findings: fs, BlamedLayers: blamed, Info: info}, nil
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

// alignCreatedBy gives each layer its history entry's created_by with the
// walker's rule: non-empty history entries map to layers bottom-up. It reads
// only the config, so cached layers are never opened.
func alignCreatedBy(cf *v1.ConfigFile, n int) []string {
	out := make([]string, n)
	k := 0
	for _, h := range cf.History {
		if h.EmptyLayer {
			continue
		}
		if k >= n {
			break
		}
		out[k] = h.CreatedBy
		k++
	}
	return out
}
