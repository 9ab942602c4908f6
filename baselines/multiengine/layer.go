package multiengine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

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
	// integrity: a walker issue of integrity kind (never cached: the
	// walker's issues are recomputed each walk).
	integrity bool
}

// layerResult is everything the engines learned from one layer, independent
// of the image it is in: what is cached, with the layer's entries, as the
// layer result of a layers.LayerAnalyzer. What the walker reports about the
// layer (limits, escaping names) and what later layers delete are not in
// it: the walk reports them again when it replays the layer.
type layerResult struct {
	DiffID     string `json:"diff_id"`
	Hits       []hit  `json:"hits,omitempty"`
	NotScanned []gap  `json:"not_scanned,omitempty"`
	Files      int    `json:"files"`
	Bytes      int64  `json:"bytes"`
	// Timing of the scan: reading and writing the layer, running the
	// engines, in total.
	WriteSeconds  float64 `json:"write_seconds"`
	EngineSeconds float64 `json:"engine_seconds"`
	Seconds       float64 `json:"seconds"`
}

// analyzerKey names a layer result in the cache (which adds the diffID and
// the walk's entry and file limits): the signatures, the engines and every
// option that changes what is scanned.
func (d *Detector) analyzerKey() string {
	return strings.Join([]string{Name, Version, d.sigDigest, d.eng.clamKey, d.eng.yaraVersion,
		strconv.FormatInt(d.opts.maxFileBytes, 10), strconv.FormatInt(d.opts.maxLayerBytes, 10)}, "\x00")
}

// walk walks img once with a layerScan behind the shared layer cache. Total
// bytes, config size and history are not bounded: each layer is scanned on
// its own terms, as a vendor scans layer tarballs.
func (d *Detector) walk(ctx context.Context, img v1.Image) (*layerScan, *layers.Result, error) {
	s := &layerScan{d: d, ctx: ctx, results: map[int]*layerResult{}, start: time.Now()}
	defer s.cleanup()
	res, err := layers.WalkAnalyzer(ctx, img, layercache.Wrap(d.cache, d.analyzerKey(), s),
		layers.WithMaxFileBytes(d.opts.maxFileBytes), layers.WithMaxEntries(d.opts.maxEntries),
		layers.WithMaxTotalBytes(0), layers.WithMaxConfigBytes(0), layers.WithMaxHistory(0))
	if err != nil {
		return nil, nil, err
	}
	return s, res, nil
}

// layerScan is the layers.LayerAnalyzer of one Scan: it writes each layer's
// regular files to a private directory under names made from a counter
// (never from tar paths), matches SHA-256 in-process while writing, and
// runs clamscan and yara once over the directory when the layer ends.
type layerScan struct {
	d       *Detector
	ctx     context.Context
	results map[int]*layerResult
	buf     []byte

	// The layer being written: its index, directory, result so far and the
	// image path of each file written (by counter).
	cur          *layerResult
	layer        int
	dir          string
	paths        []string
	skipped      int
	skippedBytes int64
	firstSkipped string
	start        time.Time
}

var _ layers.LayerAnalyzer = (*layerScan)(nil)

// begin starts layer li's result on its first file.
func (s *layerScan) begin(li *layers.LayerInfo) error {
	if s.cur != nil && s.layer == li.Index {
		return nil
	}
	s.cleanup()
	s.d.layersScanned.Add(1)
	s.cur, s.layer = &layerResult{DiffID: li.DiffID.String()}, li.Index
	s.paths, s.skipped, s.skippedBytes, s.firstSkipped = nil, 0, 0, ""
	dir, err := os.MkdirTemp(s.d.opts.tempDir, "multiengine-layer-")
	if err != nil {
		return fmt.Errorf("layer %s: %w", li.DiffID, err)
	}
	s.dir = dir
	return nil
}

// cleanup removes the directory of the layer being written.
func (s *layerScan) cleanup() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}

func (s *layerScan) AnalyzeFile(li *layers.LayerInfo, e *layers.Entry, content io.Reader) ([]byte, error) {
	if err := s.begin(li); err != nil {
		return nil, err
	}
	r, o := s.cur, &s.d.opts
	switch {
	case e.Size == 0:
		// Engines and signatures ignore empty files.
		return nil, nil
	case e.Size > o.maxFileBytes:
		r.NotScanned = append(r.NotScanned, gap{Kind: "file-too-large", Path: e.Path,
			Detail: fmt.Sprintf("%d bytes, more than the %d-byte file limit", e.Size, o.maxFileBytes)})
		return nil, nil
	case r.Bytes+e.Size > o.maxLayerBytes:
		if s.skipped == 0 {
			s.firstSkipped = e.Path
		}
		s.skipped++
		s.skippedBytes += e.Size
		return nil, nil
	}
	name := fmt.Sprintf("f%07d", len(s.paths))
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if s.buf == nil {
		s.buf = make([]byte, 1<<20)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(f, io.TeeReader(content, h), s.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", e.Path, err)
	}
	s.paths = append(s.paths, e.Path)
	r.Files++
	r.Bytes += n
	sum := hex.EncodeToString(h.Sum(nil))
	if sig := s.d.bySHA[sum]; sig != nil {
		r.Hits = append(r.Hits, hit{Engine: EngineSHA256, Rule: EngineSHA256, Path: e.Path,
			Evidence: fmt.Sprintf("sha256 %s is %s of layer %d of the first sighting", sum, sig.Path, sig.Layer)})
	}
	return nil, nil
}

// ReplayFile has nothing to do: a file's findings are in the layer result.
func (s *layerScan) ReplayFile(*layers.LayerInfo, *layers.Entry, []byte) error { return nil }

// AnalyzeLayer runs the engines over the layer's files and returns the
// layer's result for the cache.
func (s *layerScan) AnalyzeLayer(li *layers.LayerInfo) ([]byte, error) {
	if err := s.begin(li); err != nil {
		return nil, err
	}
	defer s.cleanup()
	r, o := s.cur, &s.d.opts
	if s.skipped > 0 {
		r.NotScanned = append(r.NotScanned, gap{Kind: "layer-bytes-limit", Path: s.firstSkipped,
			Detail: fmt.Sprintf("%d files (%d bytes) past the %d-byte layer limit were not scanned, the first is shown", s.skipped, s.skippedBytes, o.maxLayerBytes)})
	}
	r.WriteSeconds = time.Since(s.start).Seconds()
	if len(s.paths) > 0 {
		if err := s.d.runEngines(s.ctx, s.dir, s.paths, r); err != nil {
			return nil, fmt.Errorf("layer %s: %w", li.DiffID, err)
		}
	}
	r.Seconds = time.Since(s.start).Seconds()
	r.EngineSeconds = r.Seconds - r.WriteSeconds
	s.done(li, r)
	return json.Marshal(r)
}

// ReplayLayer takes a layer's result from the cache.
func (s *layerScan) ReplayLayer(li *layers.LayerInfo, result []byte) error {
	var r layerResult
	if err := json.Unmarshal(result, &r); err != nil || r.DiffID != li.DiffID.String() {
		return fmt.Errorf("%w: %s layer result for %s", layers.ErrCacheRecord, Name, li.DiffID)
	}
	s.done(li, &r)
	return nil
}

// done keeps layer li's result; the next layer's time starts now (the walk
// reads layers one after the other).
func (s *layerScan) done(li *layers.LayerInfo, r *layerResult) {
	s.results[li.Index] = r
	s.cur = nil
	s.start = time.Now()
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
