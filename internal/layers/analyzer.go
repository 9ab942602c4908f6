package layers

import (
	"archive/tar"
	"context"
	"errors"
	"io"
)

// VisitFunc is called for each regular file, in layer order and in tar order
// within a layer, including files a later layer will delete. content yields
// every byte of the file unless WithMaxFileBytes bounds it (reading past the
// bound is reported as IssueFileLimit). The
// visitor may read as little as it likes: unread bytes are skipped, and not
// reading is not a limit hit. A returned error aborts the walk.
type VisitFunc func(layer *LayerInfo, e *Entry, content io.Reader) error

// FileAnalyzer analyses regular files like a VisitFunc, but hands each file's
// result back to the walker as bytes, so a LayerSource decorator (a layer
// cache) can keep the results with the layer's record and, when a later
// walk replays the layer, the walker calls ReplayFile with them instead of
// AnalyzeFile with the content. So AnalyzeFile's result must depend only on
// the layer's own content and the entry (path, type, mode, size) — anything
// that depends on other layers, history or config is derived in ReplayFile
// or after the walk, never stored.
type FileAnalyzer interface {
	// AnalyzeFile reads content (bounded as for VisitFunc) and returns the
	// file's result, nil if there is nothing to remember.
	AnalyzeFile(layer *LayerInfo, e *Entry, content io.Reader) ([]byte, error)
	// ReplayFile gets what AnalyzeFile returned for the same file of a layer
	// with the same diffID, in the same order. It wraps ErrCacheRecord when
	// it cannot use the result.
	ReplayFile(layer *LayerInfo, e *Entry, result []byte) error
}

// LayerAnalyzer is a FileAnalyzer that also analyses each layer as a whole
// after its files (a baseline that runs external engines over the files of
// one layer). The same rule holds: the result depends only on the layer.
type LayerAnalyzer interface {
	FileAnalyzer
	// AnalyzeLayer is called once the walk is done with a layer it did not
	// replay: read to its end, cut by a limit, or not read at all (its
	// issues say which). It is not called when the walk fails.
	AnalyzeLayer(layer *LayerInfo) ([]byte, error)
	// ReplayLayer gets what AnalyzeLayer returned for a replayed layer,
	// after its files were replayed.
	ReplayLayer(layer *LayerInfo, result []byte) error
}

// ContentAnalyzer is a FileAnalyzer whose per-file result can be computed
// apart from the walk: AnalyzeContent is the pure part of AnalyzeFile. It
// must be safe to call concurrently (also with AnalyzeFile and ReplayFile),
// must not change the analyzer's state, and must return what AnalyzeFile
// would return for the same entry and content, so that ReplayFile with its
// result does what AnalyzeFile would have done. With WithParallelLayers the
// walker calls it, from other goroutines, for every file instead of
// AnalyzeFile: of layers the walk has not reached yet, and of the layer it
// streams, whose results reach ReplayFile in entry order, a few entries
// later. The Entry it gets carries the path, type, mode, size and layer,
// not what the overlay fills in later (Previous, Hidden, ReplacedBy).
type ContentAnalyzer interface {
	FileAnalyzer
	AnalyzeContent(layer *LayerInfo, e *Entry, content io.Reader) ([]byte, error)
}

// LayerProber is implemented by a LayerSource that can tell cheaply whether
// it probably has a recording of a layer (a layer cache), so the walker
// does not read ahead layers it will replay. key is as for BeginLayer; a
// wrong guess costs time, never correctness.
type LayerProber interface {
	HasLayer(li *LayerInfo, key string) bool
}

// ErrCacheRecord marks recorded entries that cannot be replayed. The walker
// tells the Replay (Discard) before returning an error wrapping it, so
// retrying the scan reads the layer again. FileAnalyzer.ReplayFile should
// wrap it when it cannot decode its own result.
var ErrCacheRecord = errors.New("unusable layer cache record")

// LayerSource is implemented by a FileAnalyzer decorator that can supply a
// layer's entries without its blob (layercache.Wrap): WalkAnalyzer asks it
// before each layer it would read. The walker applies replayed entries with
// the same overlay rules and limits as streamed ones, so a walk gives the
// same Result and the same analyzer calls either way.
type LayerSource interface {
	// BeginLayer is called before layer li is read. key encodes the walk
	// options that change what a layer yields (a cache key adds the diffID
	// and the analyzer's own key). fits reports whether a layer of n
	// uncompressed bytes would be read to its end under what is left of the
	// walk's byte limits; a record that does not fit must not be replayed.
	// It returns the entries to replay, or a Recorder (may be nil) that
	// observes the layer as it is read.
	BeginLayer(ctx context.Context, li *LayerInfo, key string, fits func(n int64) bool) (Replay, Recorder)
}

// FileOutcome is what the walker did with one regular file.
type FileOutcome struct {
	// Visited: the file was handed to the analyzer; Truncated: the analyzer
	// wanted more than MaxFileBytes of it; Result: what AnalyzeFile returned.
	Visited, Truncated bool
	Result             []byte
}

// Recorder observes a layer as the walker reads it.
type Recorder interface {
	// Entry is called for each tar header, in order, once it was applied;
	// f is the zero FileOutcome for headers that are not regular files.
	Entry(h *tar.Header, f FileOutcome)
	// End is called once per layer. complete is true only when the layer
	// was read to its end within the limits and its content hashed to the
	// config's diffID: only then may the recording stand for the layer.
	// bytes are the uncompressed bytes read, result is AnalyzeLayer's.
	End(bytes int64, result []byte, complete bool)
}

// Replay is a recorded layer: its headers with the outcome of each regular
// file, without content.
type Replay interface {
	// Next returns the next header, io.EOF after the last.
	Next() (*tar.Header, error)
	// File returns the recorded outcome of the current header, a regular
	// file the walker applied.
	File() (FileOutcome, error)
	// End returns the uncompressed bytes the recording walk read and
	// AnalyzeLayer's recorded result.
	End() (bytes int64, result []byte)
	// Discard forgets the recording: replaying it failed with an error
	// wrapping ErrCacheRecord.
	Discard()
}

// visitAnalyzer adapts a VisitFunc; it has no result to replay.
type visitAnalyzer VisitFunc

func (v visitAnalyzer) AnalyzeFile(l *LayerInfo, e *Entry, r io.Reader) ([]byte, error) {
	return nil, v(l, e, r)
}

func (v visitAnalyzer) ReplayFile(*LayerInfo, *Entry, []byte) error {
	return errors.New("a VisitFunc cannot be replayed")
}
