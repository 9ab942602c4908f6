package layercache

import (
	"archive/tar"
	"context"
	"io"

	"github.com/strata-sec/strata/internal/layers"
)

// Wrap returns an analyzer for layers.WalkAnalyzer that caches a's results
// in c, layer by layer, in the manner of trivy's layer cache: a layer's
// record is keyed by its diffID, analyzerKey and the walk options that
// change what a layer yields, and a layer with a record is replayed — its
// entries applied and a's ReplayFile (and ReplayLayer) called with the
// recorded results — without its blob being opened. analyzerKey must name
// the analyzer, its version and every option and data set that changes its
// results. A nil cache returns a unchanged.
//
// Concurrent walks that need the same record wait for the one reading the
// layer, so a layer shared by many images is read once.
func Wrap(c *Cache, analyzerKey string, a layers.FileAnalyzer) layers.FileAnalyzer {
	if c == nil {
		return a
	}
	la, _ := a.(layers.LayerAnalyzer)
	an := &analyzer{c: c, key: analyzerKey, a: a, la: la}
	if ca, ok := a.(layers.ContentAnalyzer); ok {
		// Passed through only when a has it: the walker reads layers ahead
		// for content analyzers alone.
		return &contentAnalyzer{an, ca}
	}
	return an
}

// contentAnalyzer is the wrapper of a layers.ContentAnalyzer.
type contentAnalyzer struct {
	*analyzer
	ca layers.ContentAnalyzer
}

func (an *contentAnalyzer) AnalyzeContent(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	return an.ca.AnalyzeContent(l, e, r)
}

type analyzer struct {
	c   *Cache
	key string
	a   layers.FileAnalyzer
	la  layers.LayerAnalyzer
}

var (
	_ layers.LayerSource     = (*analyzer)(nil)
	_ layers.LayerProber     = (*analyzer)(nil)
	_ layers.LayerAnalyzer   = (*analyzer)(nil)
	_ layers.ContentAnalyzer = (*contentAnalyzer)(nil)
)

func (an *analyzer) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	return an.a.AnalyzeFile(l, e, r)
}

func (an *analyzer) ReplayFile(l *layers.LayerInfo, e *layers.Entry, result []byte) error {
	return an.a.ReplayFile(l, e, result)
}

func (an *analyzer) AnalyzeLayer(l *layers.LayerInfo) ([]byte, error) {
	if an.la == nil {
		return nil, nil
	}
	return an.la.AnalyzeLayer(l)
}

func (an *analyzer) ReplayLayer(l *layers.LayerInfo, result []byte) error {
	if an.la == nil {
		return nil
	}
	if result == nil {
		return errRecord("no layer result for layer %d", l.Index)
	}
	return an.la.ReplayLayer(l, result)
}

// HasLayer reports whether the cache holds a record for the layer, in
// memory or as a file in its directory (not validated: BeginLayer does
// that), without counting a hit or a miss.
func (an *analyzer) HasLayer(li *layers.LayerInfo, walkKey string) bool {
	return an.c.has(cacheKey(an.key, walkKey, li.DiffID.String()))
}

// BeginLayer replays the layer's record when the cache has one that fits,
// and records the layer otherwise.
func (an *analyzer) BeginLayer(ctx context.Context, li *layers.LayerInfo, walkKey string, fits func(int64) bool) (layers.Replay, layers.Recorder) {
	key := cacheKey(an.key, walkKey, li.DiffID.String())
	for {
		if rec, ok := an.c.get(key); ok {
			src, err := newRecordSource(rec)
			if err != nil {
				an.c.drop(key)
			} else if fits(src.bytes) {
				return &replay{src: src, c: an.c, key: key}, nil
			}
			// A record that does not fit in what is left of the byte
			// limits is read again, as the limits may cut it.
		}
		wait := an.c.claim(key)
		if wait == nil {
			return nil, &recording{rec: newRecorder(an.c.recordLimit()), c: an.c, key: key}
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, nil // the walk returns ctx's error
		}
	}
}

// recording records a layer as the walker reads it and stores the record
// when the layer ended complete.
type recording struct {
	rec *recorder
	c   *Cache
	key string
}

func (r *recording) Entry(h *tar.Header, f layers.FileOutcome) {
	r.rec.header(h)
	r.rec.done(f.Visited, f.Truncated, f.Result)
}

func (r *recording) End(bytes int64, result []byte, complete bool) {
	if complete {
		if rec := r.rec.finish(bytes, result); rec != nil {
			r.c.put(r.key, rec)
		}
	}
	r.c.release(r.key)
}

// replay is a record as a layers.Replay.
type replay struct {
	src *recordSource
	c   *Cache
	key string
}

func (r *replay) Next() (*tar.Header, error) {
	s := r.src
	if s.flags&recVisited != 0 && !s.used {
		return nil, errRecord("file result for a non-file %s", s.prev)
	}
	h, err := s.next()
	if err == io.EOF && len(s.b) != 0 {
		return nil, errRecord("%d trailing bytes", len(s.b))
	}
	return h, err
}

func (r *replay) File() (layers.FileOutcome, error) {
	s := r.src
	if s.flags&recVisited == 0 || s.used {
		return layers.FileOutcome{}, errRecord("no file result for %s", s.prev)
	}
	s.used = true
	return layers.FileOutcome{Visited: true, Truncated: s.flags&recTruncated != 0, Result: s.result}, nil
}

func (r *replay) End() (int64, []byte) { return r.src.bytes, r.src.layer }

func (r *replay) Discard() { r.c.drop(r.key) }
