package detectors

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Default walker limits. They are generous on purpose: a limit that is hit
// turns a clean verdict into "incomplete", so it must only trigger on images
// that really are unusual.
const (
	// DefaultMaxFileBytes bounds how much of one file a visitor may read.
	DefaultMaxFileBytes int64 = 32 << 20
	// DefaultMaxEntries bounds the number of tar entries processed per layer.
	DefaultMaxEntries = 1 << 20
	// DefaultMaxTotalBytes bounds the uncompressed bytes read over the image.
	DefaultMaxTotalBytes int64 = 16 << 30
	// DefaultMaxLayerBytes bounds a layer's compressed size (the manifest
	// descriptor's, checked before the blob is opened, and the bytes read).
	DefaultMaxLayerBytes int64 = 4 << 30
	// DefaultMaxLayerUncompressedBytes bounds the uncompressed bytes read of
	// one layer.
	DefaultMaxLayerUncompressedBytes int64 = 8 << 30
	// DefaultMaxCompressionRatio bounds uncompressed/compressed bytes of a
	// layer once DefaultRatioMinBytes uncompressed bytes have been read.
	// gzip cannot exceed ~1032:1; real layers are 2-10:1, layers of
	// zero-filled files a few hundred.
	DefaultMaxCompressionRatio int64 = 100
	// DefaultRatioMinBytes: below this many uncompressed bytes of a layer the
	// ratio is not checked (small highly compressible layers are normal).
	DefaultRatioMinBytes int64 = 64 << 20
	// DefaultMaxPathBytes bounds the length of a tar entry name or link
	// target (Linux PATH_MAX).
	DefaultMaxPathBytes = 4096
	// DefaultMaxPathDepth bounds the number of components of a path.
	DefaultMaxPathDepth = 256
	// DefaultMaxHistory bounds the config history entries analysed.
	DefaultMaxHistory = 10000
	// DefaultMaxConfigBytes bounds the image config read.
	DefaultMaxConfigBytes int64 = 8 << 20
)

// EntryType is the kind of a filesystem entry.
type EntryType string

const (
	TypeFile     EntryType = "file"
	TypeDir      EntryType = "dir"
	TypeSymlink  EntryType = "symlink"
	TypeHardlink EntryType = "hardlink"
	// TypeOther covers devices, fifos and anything else without content.
	TypeOther EntryType = "other"
)

// Entry is one version of a path: what a layer wrote there. Hidden, RemovedBy
// and ReplacedBy are filled in as later layers are applied, so they are final
// only once Walk has returned; a visitor may keep the *Entry it was given and
// read them afterwards.
type Entry struct {
	Path string      `json:"path"`
	Type EntryType   `json:"type"`
	Mode fs.FileMode `json:"mode"`
	Size int64       `json:"size"`
	// Linkname is the target of a symlink (as written) or of a hardlink
	// (normalised like Path). Links are recorded, never followed.
	Linkname string `json:"linkname,omitempty"`
	// Layer is the index of the layer that wrote this version (0 = bottom).
	Layer int `json:"layer"`
	// Hidden is true when a later layer deleted this version: a whiteout of
	// the path or of a parent, an opaque parent directory, or a non-directory
	// written over a parent directory. RemovedBy is that layer.
	Hidden    bool `json:"hidden,omitempty"`
	RemovedBy int  `json:"removed_by"`
	// ReplacedBy is the layer that wrote a newer version of the same path
	// (NoLayer if none). A replaced version is not Hidden: the path still
	// exists, with other content or mode.
	ReplacedBy int `json:"replaced_by"`
	// Previous is the version this one replaced, live or hidden, so the full
	// history of a path (added in layer i, chmod-ed in layer j) is available.
	Previous *Entry `json:"-"`
}

// Executable reports whether the entry is a regular file with any execute bit.
func (e *Entry) Executable() bool {
	return e.Type == TypeFile && e.Mode.Perm()&0o111 != 0
}

// Versions returns this entry and all earlier versions of its path, oldest
// first.
func (e *Entry) Versions() []*Entry {
	var vs []*Entry
	for v := e; v != nil; v = v.Previous {
		vs = append(vs, v)
	}
	for i, j := 0, len(vs)-1; i < j; i, j = i+1, j-1 {
		vs[i], vs[j] = vs[j], vs[i]
	}
	return vs
}

// LayerInfo describes one layer and the history entry aligned to it.
type LayerInfo struct {
	Index     int             `json:"index"`
	DiffID    v1.Hash         `json:"diff_id"`
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"media_type,omitempty"`
	// CreatedBy is the aligned history entry's created_by ("" if none).
	CreatedBy string `json:"created_by,omitempty"`
	// HistoryIndex is the index of that entry in the config history, or
	// NoLayer when history could not be aligned to this layer.
	HistoryIndex int `json:"history_index"`
	// EmptyAfter are the indices of the empty_layer history entries that
	// follow this layer's entry (ENV, ENTRYPOINT, WORKDIR ... steps).
	EmptyAfter []int `json:"empty_after,omitempty"`
	// Entries and Bytes count tar entries and uncompressed bytes read.
	Entries int   `json:"entries"`
	Bytes   int64 `json:"bytes"`
	// Complete is false when a limit stopped the walk in or before this layer.
	Complete bool `json:"complete"`
	// Cached is true when the layer was replayed from a LayerCache record
	// instead of being read; Entries and Bytes are the recorded ones.
	Cached bool `json:"cached,omitempty"`
}

// Step parses the layer's created_by.
func (l *LayerInfo) Step() Step { return ParseCreatedBy(l.CreatedBy) }

// HistoryEntry is one config history entry with the layer it produced.
type HistoryEntry struct {
	Index int `json:"index"`
	v1.History
	// Layer is the layer index this entry produced, NoLayer for empty_layer
	// entries and for entries that could not be aligned.
	Layer int `json:"layer"`
}

// IssueKind names a problem the walker met; none of them aborts the walk.
//
// The rule for damaged input: a layer that cannot be read at all (the blob
// cannot be opened, the compression header is bad, the first tar header is
// not a tar header) is an error and the walk fails. A layer that is cut
// short or corrupt after at least one entry was read is an issue
// (IssueLayerTruncated): the entries read are scanned, the rest is not.
type IssueKind string

const (
	// IssueFileLimit: a visitor wanted more of a file than MaxFileBytes.
	IssueFileLimit IssueKind = "file-bytes-limit"
	// IssueEntryLimit: a layer had more entries than MaxEntries; the rest of
	// that layer was not applied.
	IssueEntryLimit IssueKind = "entry-limit"
	// IssueTotalLimit: the image exceeded MaxTotalBytes; the rest of the
	// layer and all later layers were not applied.
	IssueTotalLimit IssueKind = "total-bytes-limit"
	// IssuePathEscape: a tar entry whose name leaves the root ("../x"); it is
	// skipped, as a container runtime would refuse it.
	IssuePathEscape IssueKind = "path-escape"
	// IssueHistoryMismatch: non-empty history entries and layers disagree in
	// number; alignment is best effort, bottom up.
	IssueHistoryMismatch IssueKind = "history-mismatch"
	// IssueLayerSizeLimit: a layer's compressed size (descriptor or bytes
	// read) exceeds MaxLayerBytes; it was not read, or not to the end.
	IssueLayerSizeLimit IssueKind = "layer-size-limit"
	// IssueLayerBytesLimit: a layer decompresses to more than
	// MaxLayerUncompressedBytes; the rest of the layer was not applied.
	IssueLayerBytesLimit IssueKind = "layer-bytes-limit"
	// IssueRatioLimit: a layer decompresses to more than MaxCompressionRatio
	// times its compressed bytes (a decompression bomb); the rest of the
	// layer was not applied.
	IssueRatioLimit IssueKind = "compression-ratio-limit"
	// IssuePathLimit: an entry's name or link target is longer than
	// MaxPathBytes or deeper than MaxPathDepth; the entry was skipped.
	IssuePathLimit IssueKind = "path-limit"
	// IssueHistoryLimit: the config has more history entries than
	// MaxHistory; the rest were not analysed.
	IssueHistoryLimit IssueKind = "history-limit"
	// IssueLayerTruncated: the layer's compressed or tar stream ended early
	// or was corrupt after at least one entry; the rest was not applied.
	IssueLayerTruncated IssueKind = "layer-truncated"
	// IssueDigestMismatch: the layer's bytes do not hash to the manifest's
	// digest or the config's diffID (or could not be verified): what was
	// scanned is not verifiably the content the image names.
	IssueDigestMismatch IssueKind = "digest-mismatch"
)

// Issue is a non-fatal problem reported by Walk.
type Issue struct {
	Kind   IssueKind `json:"kind"`
	Layer  int       `json:"layer"`
	Path   string    `json:"path,omitempty"`
	Detail string    `json:"detail"`
}

// Limit reports whether the issue means some content was not scanned (or
// not verifiably the content the image names). Every such issue makes a
// below-threshold verdict incomplete.
func (i Issue) Limit() bool {
	switch i.Kind {
	case IssueFileLimit, IssueEntryLimit, IssueTotalLimit, IssueLayerSizeLimit,
		IssueLayerBytesLimit, IssueRatioLimit, IssuePathLimit, IssueHistoryLimit,
		IssueLayerTruncated, IssueDigestMismatch:
		return true
	}
	return false
}

// Result is what Walk returns: layers, history and the final filesystem view.
type Result struct {
	Layers  []LayerInfo    `json:"layers"`
	History []HistoryEntry `json:"history"`
	// Files is the final view keyed by normalised path (no leading "/"):
	// the live entry of every path, or the last (hidden) version of a path
	// that was deleted. Earlier versions hang off Entry.Previous.
	Files  map[string]*Entry `json:"-"`
	Issues []Issue           `json:"issues,omitempty"`
	// Bytes is the number of uncompressed layer bytes read, or replayed from
	// a LayerCache record (the bytes the record's walk read).
	Bytes int64 `json:"bytes"`
	// Config is the image config as read (bounded by MaxConfigBytes), so a
	// detector need not read it again.
	Config *v1.ConfigFile `json:"-"`
}

// Lookup returns the entry for a path in any spelling ("/bin/x", "./bin/x").
func (r *Result) Lookup(p string) (*Entry, bool) {
	n, ok := NormalizePath(p)
	if !ok {
		return nil, false
	}
	e, found := r.Files[n]
	return e, found
}

// Paths returns the paths of the final view, sorted.
func (r *Result) Paths() []string {
	ps := make([]string, 0, len(r.Files))
	for p := range r.Files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// NotScanned returns the issues that mean some content was not scanned.
func (r *Result) NotScanned() []Issue {
	var out []Issue
	for _, is := range r.Issues {
		if is.Limit() {
			out = append(out, is)
		}
	}
	return out
}

// VisitFunc is called for each regular file, in layer order and in tar order
// within a layer, including files a later layer will delete. content yields at
// most MaxFileBytes; reading past that is reported as IssueFileLimit. The
// visitor may read as little as it likes: unread bytes are skipped, and not
// reading is not a limit hit. A returned error aborts the walk.
type VisitFunc func(layer *LayerInfo, e *Entry, content io.Reader) error

// FileAnalyzer analyses regular files like a VisitFunc, but hands each file's
// result back to the walker as bytes. The walker keeps the results with the
// layer's record in a LayerCache (WithLayerCache) and, when a later walk
// replays the layer from the cache, calls ReplayFile with them instead of
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

// visitAnalyzer adapts a VisitFunc; it has no result to replay.
type visitAnalyzer VisitFunc

func (v visitAnalyzer) AnalyzeFile(l *LayerInfo, e *Entry, r io.Reader) ([]byte, error) {
	return nil, v(l, e, r)
}

func (v visitAnalyzer) ReplayFile(*LayerInfo, *Entry, []byte) error {
	return errors.New("a VisitFunc cannot be replayed")
}

// WalkOption configures Walk.
type WalkOption func(*walkOptions)

type walkOptions struct {
	maxFileBytes   int64
	maxEntries     int
	maxTotalBytes  int64
	maxLayerBytes  int64
	maxLayerUncomp int64
	maxRatio       int64
	ratioMinBytes  int64
	maxPathBytes   int
	maxPathDepth   int
	maxHistory     int
	maxConfigBytes int64
	cache          *LayerCache
	analyzerKey    string
}

func defaultWalkOptions() walkOptions {
	return walkOptions{
		maxFileBytes:   DefaultMaxFileBytes,
		maxEntries:     DefaultMaxEntries,
		maxTotalBytes:  DefaultMaxTotalBytes,
		maxLayerBytes:  DefaultMaxLayerBytes,
		maxLayerUncomp: DefaultMaxLayerUncompressedBytes,
		maxRatio:       DefaultMaxCompressionRatio,
		ratioMinBytes:  DefaultRatioMinBytes,
		maxPathBytes:   DefaultMaxPathBytes,
		maxPathDepth:   DefaultMaxPathDepth,
		maxHistory:     DefaultMaxHistory,
		maxConfigBytes: DefaultMaxConfigBytes,
	}
}

// WithMaxLayerBytes bounds a layer's compressed size: a layer whose manifest
// descriptor declares more is not read, one whose blob yields more is cut.
// n <= 0 removes the bound.
func WithMaxLayerBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxLayerBytes = n } }

// WithMaxLayerUncompressedBytes bounds the uncompressed bytes read of one
// layer; n <= 0 removes the bound.
func WithMaxLayerUncompressedBytes(n int64) WalkOption {
	return func(o *walkOptions) { o.maxLayerUncomp = n }
}

// WithMaxCompressionRatio stops reading a layer once its uncompressed bytes
// exceed ratio times its compressed bytes and minBytes. The compressed bytes
// are those read of the blob for registry and layout layers, the descriptor
// size for others. ratio <= 0 removes the bound.
func WithMaxCompressionRatio(ratio, minBytes int64) WalkOption {
	return func(o *walkOptions) { o.maxRatio, o.ratioMinBytes = ratio, minBytes }
}

// WithMaxPathBytes bounds the length of entry names and link targets; longer
// entries are skipped and reported. n <= 0 removes the bound.
func WithMaxPathBytes(n int) WalkOption { return func(o *walkOptions) { o.maxPathBytes = n } }

// WithMaxPathDepth bounds the number of path components of an entry; deeper
// entries are skipped and reported. n <= 0 removes the bound.
func WithMaxPathDepth(n int) WalkOption { return func(o *walkOptions) { o.maxPathDepth = n } }

// WithMaxHistory bounds the config history entries kept in Result.History;
// n <= 0 removes the bound.
func WithMaxHistory(n int) WalkOption { return func(o *walkOptions) { o.maxHistory = n } }

// WithMaxConfigBytes bounds the image config; a larger config is an error
// (nothing can be scanned without it). n <= 0 removes the bound.
func WithMaxConfigBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxConfigBytes = n } }

// WithMaxFileBytes bounds the bytes of one file a visitor can read; n <= 0
// removes the bound.
func WithMaxFileBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxFileBytes = n } }

// EffectiveMaxFileBytes returns the bound on the bytes of one file that a
// walk with opts gives an analyzer (DefaultMaxFileBytes unless
// WithMaxFileBytes changes it; <= 0 means no bound). Analyzers that expand
// content (a gzip member) use it to bound what they inflate.
func EffectiveMaxFileBytes(opts ...WalkOption) int64 {
	o := defaultWalkOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return o.maxFileBytes
}

// WithMaxEntries bounds the tar entries applied per layer; n <= 0 removes the
// bound.
func WithMaxEntries(n int) WalkOption { return func(o *walkOptions) { o.maxEntries = n } }

// WithMaxTotalBytes bounds the uncompressed bytes read over the whole image;
// n <= 0 removes the bound.
func WithMaxTotalBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxTotalBytes = n } }

// WithLayerCache makes WalkAnalyzer replay layers recorded in c instead of
// reading them, and record the layers it reads. analyzerKey must name the
// analyzer, its version and every option and data set that changes its
// per-file results; the walker adds the diffID and its own options. Walk with
// a non-nil VisitFunc refuses a cache (a VisitFunc has no results to replay).
func WithLayerCache(c *LayerCache, analyzerKey string) WalkOption {
	return func(o *walkOptions) { o.cache, o.analyzerKey = c, analyzerKey }
}

// limitError is returned by the layer readers once a limit is hit; it
// surfaces through tar.Reader and visitors and becomes an Issue.
type limitError struct {
	kind   IssueKind
	detail string
}

func (e *limitError) Error() string { return string(e.kind) + ": " + e.detail }

// errTotalLimit is returned by the counting reader once MaxTotalBytes is
// exceeded.
var errTotalLimit = &limitError{kind: IssueTotalLimit}

// Walk streams the layers of img bottom-up, applies them to a filesystem view
// and calls visit (which may be nil) for every regular file. Layers are read
// once, as uncompressed tar streams, never held in memory or written to disk.
func Walk(ctx context.Context, img v1.Image, visit VisitFunc, opts ...WalkOption) (*Result, error) {
	var a FileAnalyzer
	if visit != nil {
		a = visitAnalyzer(visit)
	}
	return walk(ctx, img, a, visit != nil, opts)
}

// WalkAnalyzer is Walk for a FileAnalyzer; with WithLayerCache, layers whose
// record is cached are replayed without opening their blobs, and the Result
// and the analyzer calls are the same as for a walk that reads them.
func WalkAnalyzer(ctx context.Context, img v1.Image, a FileAnalyzer, opts ...WalkOption) (*Result, error) {
	return walk(ctx, img, a, false, opts)
}

func walk(ctx context.Context, img v1.Image, a FileAnalyzer, noReplay bool, opts []WalkOption) (*Result, error) {
	o := defaultWalkOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.cache != nil && noReplay {
		return nil, errors.New("walk: a layer cache needs a FileAnalyzer (WalkAnalyzer), not a VisitFunc")
	}
	cf, err := readConfig(img, o.maxConfigBytes)
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list image layers: %w", err)
	}
	w := &walker{
		opts:     o,
		an:       a,
		children: map[string]map[string]struct{}{},
		res:      &Result{Files: map[string]*Entry{}, Config: cf},
	}
	if w.res.Layers, err = describeLayers(img, cf, layers); err != nil {
		return nil, err
	}
	w.alignHistory(cf)

	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if w.stopped {
			w.issue(Issue{Kind: IssueTotalLimit, Layer: i,
				Detail: fmt.Sprintf("layer not read: image exceeds %d uncompressed bytes", o.maxTotalBytes)})
			continue
		}
		if err := w.walkLayer(ctx, i, l); err != nil {
			return nil, err
		}
	}
	w.res.Bytes = w.total
	return w.res, nil
}

// readConfig reads the config, refusing one larger than max (declared in the
// manifest, or read).
func readConfig(img v1.Image, max int64) (*v1.ConfigFile, error) {
	if max > 0 {
		if m, err := img.Manifest(); err == nil && m.Config.Size > max {
			return nil, fmt.Errorf("read image config: manifest declares %d bytes, more than the %d read", m.Config.Size, max)
		}
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	if max > 0 && int64(len(raw)) > max {
		return nil, fmt.Errorf("read image config: %d bytes, more than the %d read", len(raw), max)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	return cf, nil
}

// describeLayers takes digests, sizes and media types from the manifest and
// diffIDs from the config, as a runtime does. Asking the layer for its diffID
// would decompress and hash the whole blob for layers of OCI layouts, whose
// blobs do not know it; only when manifest or config disagree with the layer
// list are the layers asked.
func describeLayers(img v1.Image, cf *v1.ConfigFile, layers []v1.Layer) ([]LayerInfo, error) {
	out := make([]LayerInfo, len(layers))
	var descs []v1.Descriptor
	if m, err := img.Manifest(); err == nil && len(m.Layers) == len(layers) {
		descs = m.Layers
	}
	diffIDs := cf.RootFS.DiffIDs
	if len(diffIDs) != len(layers) {
		diffIDs = nil
	}
	for i, l := range layers {
		li := LayerInfo{Index: i, HistoryIndex: NoLayer}
		var err error
		if diffIDs != nil {
			li.DiffID = diffIDs[i]
		} else if li.DiffID, err = l.DiffID(); err != nil {
			return nil, fmt.Errorf("layer %d diffID: %w", i, err)
		}
		if descs != nil {
			li.Digest, li.Size, li.MediaType = descs[i].Digest, descs[i].Size, descs[i].MediaType
		} else {
			if li.Digest, err = l.Digest(); err != nil {
				return nil, fmt.Errorf("layer %d digest: %w", i, err)
			}
			if li.Size, err = l.Size(); err != nil {
				return nil, fmt.Errorf("layer %d size: %w", i, err)
			}
			// Media type is informational; some in-memory layers do not know it.
			if mt, err := l.MediaType(); err == nil {
				li.MediaType = mt
			}
		}
		out[i] = li
	}
	return out, nil
}

type walker struct {
	opts walkOptions
	an   FileAnalyzer
	res  *Result
	// replay is the record being replayed, rec the one being recorded (nil
	// when not caching); file is what happened to the current entry's file.
	replay *recordSource
	rec    *recorder
	file   fileState
	// children indexes every path ever added by its parent directory so a
	// whiteout or opaque directory touches only its own subtree.
	children map[string]map[string]struct{}
	total    int64
	stopped  bool
}

func (w *walker) issue(is Issue) { w.res.Issues = append(w.res.Issues, is) }

// alignHistory maps non-empty history entries to layers bottom-up, as the
// image spec defines, and records which empty entries follow each layer.
func (w *walker) alignHistory(cf *v1.ConfigFile) {
	var nonEmpty []int
	kept := len(cf.History)
	if max := w.opts.maxHistory; max > 0 && kept > max {
		kept = max
		w.issue(Issue{Kind: IssueHistoryLimit, Layer: NoLayer,
			Detail: fmt.Sprintf("config has %d history entries; only the first %d were analysed", len(cf.History), max)})
	}
	w.res.History = make([]HistoryEntry, kept)
	for i, h := range cf.History {
		if i < kept {
			w.res.History[i] = HistoryEntry{Index: i, History: h, Layer: NoLayer}
		}
		if !h.EmptyLayer {
			nonEmpty = append(nonEmpty, i)
			if len(nonEmpty) > len(w.res.Layers) && i >= kept {
				break // enough to know the counts disagree
			}
		}
	}
	if len(nonEmpty) != len(w.res.Layers) {
		w.issue(Issue{Kind: IssueHistoryMismatch, Layer: NoLayer,
			Detail: fmt.Sprintf("%d non-empty history entries for %d layers; aligned bottom-up", countNonEmpty(cf.History), len(w.res.Layers))})
	}
	for k := 0; k < len(nonEmpty) && k < len(w.res.Layers); k++ {
		hi := nonEmpty[k]
		li := &w.res.Layers[k]
		li.CreatedBy = cf.History[hi].CreatedBy
		if hi >= kept {
			// The layer keeps its created_by; the entry is beyond the cap.
			continue
		}
		li.HistoryIndex = hi
		w.res.History[hi].Layer = k
		end := kept
		if k+1 < len(nonEmpty) && nonEmpty[k+1] < end {
			end = nonEmpty[k+1]
		}
		for j := hi + 1; j < end; j++ {
			li.EmptyAfter = append(li.EmptyAfter, j)
		}
	}
}

func countNonEmpty(hs []v1.History) int {
	n := 0
	for _, h := range hs {
		if !h.EmptyLayer {
			n++
		}
	}
	return n
}

// countingReader counts uncompressed bytes and enforces MaxTotalBytes,
// MaxLayerUncompressedBytes and MaxCompressionRatio. It remembers the first
// stream error and whether the stream ended, so the walker can tell a
// stream that was cut short from an analyzer's own error.
type countingReader struct {
	r  io.Reader
	w  *walker
	li *LayerInfo
	// compressed reports the compressed bytes behind what was read so far.
	compressed func() int64
	err        error // first error other than io.EOF
	eof        bool  // a read returned no bytes and io.EOF
	limit      *limitError
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit != nil {
		return 0, c.limit
	}
	o := &c.w.opts
	if max := o.maxTotalBytes; max > 0 {
		left := max - c.w.total
		if left <= 0 {
			c.limit = errTotalLimit
			return 0, c.limit
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	if max := o.maxLayerUncomp; max > 0 {
		left := max - c.li.Bytes
		if left <= 0 {
			c.limit = &limitError{kind: IssueLayerBytesLimit,
				detail: fmt.Sprintf("layer decompresses to more than %d bytes; the rest of the layer was not scanned", max)}
			return 0, c.limit
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	if o.maxRatio > 0 && c.li.Bytes > o.ratioMinBytes {
		if comp := c.compressed(); comp >= 0 && c.li.Bytes > o.maxRatio*max(comp, 1) {
			c.limit = &limitError{kind: IssueRatioLimit,
				detail: fmt.Sprintf("layer decompresses to more than %d times its %d compressed bytes (%d bytes read): possible decompression bomb; the rest of the layer was not scanned",
					o.maxRatio, comp, c.li.Bytes)}
			return 0, c.limit
		}
	}
	n, err := c.r.Read(p)
	c.w.total += int64(n)
	c.li.Bytes += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		if n == 0 {
			c.eof = true
		}
	case c.err == nil:
		c.err = err
	}
	return n, err
}

// fileState is what the walker did with the current entry's file, for the
// record.
type fileState struct {
	visited, truncated bool
	result             []byte
}

// walkLayer applies one layer: skipped when its descriptor exceeds
// MaxLayerBytes, replayed from the cache when it has the layer's record and
// the record fits in what is left of the byte limits (so they would not have
// cut it), streamed from the blob otherwise.
func (w *walker) walkLayer(ctx context.Context, i int, l v1.Layer) error {
	li := &w.res.Layers[i]
	if max := w.opts.maxLayerBytes; max > 0 && li.Size > max {
		w.issue(Issue{Kind: IssueLayerSizeLimit, Layer: i,
			Detail: fmt.Sprintf("layer not read: its descriptor declares %d compressed bytes, more than %d", li.Size, max)})
		return nil
	}
	key := ""
	if w.opts.cache != nil {
		key = cacheKey(w.opts.analyzerKey, li.DiffID.String(), w.opts)
		if rec, ok := w.opts.cache.get(key); ok {
			src, err := newRecordSource(rec)
			if err != nil {
				w.opts.cache.drop(key)
			} else if w.replayFits(li, src.bytes) {
				err := w.replayLayer(ctx, li, src)
				if errors.Is(err, ErrCacheRecord) {
					w.opts.cache.drop(key)
				}
				return err
			}
		}
	}
	return w.streamLayer(ctx, li, l, key)
}

// replayFits reports whether a record of n uncompressed bytes would have
// been read to the end under the current byte limits.
func (w *walker) replayFits(li *LayerInfo, n int64) bool {
	o := &w.opts
	if o.maxTotalBytes > 0 && w.total+n >= o.maxTotalBytes {
		return false
	}
	if o.maxLayerUncomp > 0 && n >= o.maxLayerUncomp {
		return false
	}
	if o.maxRatio > 0 && n > o.ratioMinBytes && n > o.maxRatio*max(li.Size, 1) {
		return false
	}
	return true
}

func (w *walker) replayLayer(ctx context.Context, li *LayerInfo, src *recordSource) error {
	w.replay = src
	defer func() { w.replay = nil }()
	li.Cached = true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("replay layer %d (%s): %w", li.Index, li.DiffID, err)
		}
		if w.opts.maxEntries > 0 && li.Entries >= w.opts.maxEntries {
			return fmt.Errorf("replay layer %d (%s): %w", li.Index, li.DiffID, errRecord("more entries than the limit"))
		}
		li.Entries++
		if err := w.apply(li, hdr, nil); err != nil {
			return fmt.Errorf("replay layer %d (%s) %s: %w", li.Index, li.DiffID, hdr.Name, err)
		}
		if src.flags&recVisited != 0 && !src.used {
			return fmt.Errorf("replay layer %d (%s) %s: %w", li.Index, li.DiffID, hdr.Name, errRecord("file result for a non-file"))
		}
	}
	li.Complete = true
	li.Bytes = src.bytes
	w.total += src.bytes
	return nil
}

func (w *walker) streamLayer(ctx context.Context, li *LayerInfo, l v1.Layer, key string) error {
	i := li.Index
	rs, err := openLayer(l, w.opts.maxLayerBytes)
	if err != nil {
		return fmt.Errorf("open layer %d (%s): %w", i, li.DiffID, err)
	}
	defer rs.Close()
	if key != "" {
		w.rec = newRecorder(w.opts.cache.recordLimit())
		defer func() { w.rec = nil }()
	}
	cr := &countingReader{r: rs, w: w, li: li, compressed: func() int64 {
		if rs.blob {
			return rs.compressed.Load()
		}
		return li.Size
	}}
	tr := tar.NewReader(cr)
	// stop ends the layer early: a limit hit becomes its issue; a stream that
	// failed or ended inside an entry is an error before the first entry and
	// an IssueLayerTruncated after it.
	stop := func(err error, where string) error {
		var le *limitError
		if cr.limit != nil {
			le = cr.limit
		}
		if le != nil || errors.As(err, &le) {
			if le.kind == IssueTotalLimit {
				w.stopTotal(i)
			} else {
				w.issue(Issue{Kind: le.kind, Layer: i, Detail: le.detail})
			}
			return nil
		}
		if li.Entries == 0 {
			return fmt.Errorf("read layer %d (%s): not a readable layer: %w", i, li.DiffID, err)
		}
		w.issue(Issue{Kind: IssueLayerTruncated, Layer: i, Path: where,
			Detail: fmt.Sprintf("layer stream cut short or corrupt after %d entries (%d bytes): %v; the rest of the layer was not scanned", li.Entries, li.Bytes, err)})
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			if cr.eof && li.Entries > 0 {
				// The stream ended where a header was due, without the
				// end-of-archive marker: a tar cut at an entry boundary.
				return stop(io.ErrUnexpectedEOF, "")
			}
			li.Complete = true
			ok := w.verifyLayer(li, rs)
			if w.rec != nil {
				if rec := w.rec.finish(li.Bytes); rec != nil && ok {
					w.opts.cache.put(key, rec)
				}
			}
			return nil
		}
		if err != nil {
			return stop(err, "")
		}
		if w.opts.maxEntries > 0 && li.Entries >= w.opts.maxEntries {
			w.issue(Issue{Kind: IssueEntryLimit, Layer: i,
				Detail: fmt.Sprintf("layer has more than %d entries; the rest was not scanned", w.opts.maxEntries)})
			return nil
		}
		li.Entries++
		if w.rec != nil {
			w.rec.header(hdr)
		}
		w.file = fileState{}
		if err := w.apply(li, hdr, tr); err != nil {
			if cr.limit != nil || cr.err != nil || cr.eof {
				// The stream failed under the analyzer, not the analyzer.
				return stop(cmpErr(cr.err, err), hdr.Name)
			}
			return fmt.Errorf("layer %d (%s) %s: %w", i, li.DiffID, hdr.Name, err)
		}
		if w.rec != nil {
			w.rec.done(w.file.visited, w.file.truncated, w.file.result)
		}
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// verifyLayer checks a layer read to its end against the config's diffID
// and, for blobs, the manifest's digest and size. A mismatch is an issue:
// the content scanned is not the content the image names. It reports
// whether the diffID matched (only then may the layer be cached).
func (w *walker) verifyLayer(li *LayerInfo, rs *layerStream) bool {
	diffOK, digestOK, why := rs.verify(li.DiffID, li.Digest, li.Size)
	if !diffOK || !digestOK {
		w.issue(Issue{Kind: IssueDigestMismatch, Layer: li.Index, Detail: why})
	}
	return diffOK
}

func (w *walker) stopTotal(i int) {
	w.stopped = true
	w.issue(Issue{Kind: IssueTotalLimit, Layer: i,
		Detail: fmt.Sprintf("image exceeds %d uncompressed bytes; the rest of this layer was not scanned", w.opts.maxTotalBytes)})
}

// NormalizePath turns a tar entry name into the walker's key: cleaned, no
// leading "./" or "/". ok is false for names that escape the root. The root
// itself normalises to "".
func NormalizePath(name string) (p string, ok bool) {
	p = path.Clean("/" + strings.TrimPrefix(name, "./"))
	// Clean of a rooted path never keeps "..", so detect escapes on the raw
	// relative form: "../x" and "a/../../x" both leave the root.
	rel := path.Clean(strings.TrimLeft(name, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return strings.TrimPrefix(p, "/"), true
}

func entryType(flag byte) EntryType {
	switch flag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		// GNU sparse ('S') and contiguous ('7') entries are regular files
		// with content; skipping them would leave content unscanned.
		return TypeFile
	case tar.TypeDir:
		return TypeDir
	case tar.TypeSymlink:
		return TypeSymlink
	case tar.TypeLink:
		return TypeHardlink
	}
	return TypeOther
}

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

func (w *walker) apply(li *LayerInfo, hdr *tar.Header, content io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader:
		return nil
	}
	name, ok := NormalizePath(hdr.Name)
	if !ok {
		w.issue(Issue{Kind: IssuePathEscape, Layer: li.Index, Path: truncateName(hdr.Name),
			Detail: "tar entry escapes the root; skipped"})
		return nil
	}
	if name == "" {
		return nil
	}
	if why := w.pathLimit(name, hdr.Linkname); why != "" {
		w.issue(Issue{Kind: IssuePathLimit, Layer: li.Index, Path: truncateName(name),
			Detail: why + "; entry skipped"})
		return nil
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == whiteoutOpaque:
		w.hideBelow(dir, li.Index)
		return nil
	case strings.HasPrefix(base, whiteoutMeta):
		// Other aufs metadata (.wh..wh.plnk, .wh..wh.aufs) carries no files.
		return nil
	case strings.HasPrefix(base, whiteoutPrefix):
		if t := strings.TrimPrefix(base, whiteoutPrefix); t == "" || t == "." || t == ".." {
			// ".wh..", ".wh..." would delete the directory itself or its
			// parent: not a whiteout a builder writes.
			w.issue(Issue{Kind: IssuePathEscape, Layer: li.Index, Path: truncateName(name),
				Detail: "whiteout names no entry of its directory; ignored"})
			return nil
		}
		target := path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))
		if e := w.res.Files[target]; e != nil {
			w.hide(e, li.Index)
		}
		w.hideBelow(target, li.Index)
		return nil
	}

	e := &Entry{
		Path:       name,
		Type:       entryType(hdr.Typeflag),
		Mode:       hdr.FileInfo().Mode(),
		Layer:      li.Index,
		RemovedBy:  NoLayer,
		ReplacedBy: NoLayer,
	}
	switch e.Type {
	case TypeFile:
		e.Size = hdr.Size
	case TypeSymlink:
		e.Linkname = hdr.Linkname
	case TypeHardlink:
		if n, ok := NormalizePath(hdr.Linkname); ok {
			e.Linkname = n
		} else {
			e.Linkname = hdr.Linkname
			w.issue(Issue{Kind: IssuePathEscape, Layer: li.Index, Path: name,
				Detail: "hardlink target escapes the root: " + hdr.Linkname})
		}
	}
	if prev := w.res.Files[name]; prev != nil {
		if !prev.Hidden {
			prev.ReplacedBy = li.Index
		}
		e.Previous = prev
	}
	// Overlay semantics: a non-directory written over a directory (explicit
	// or implied by lower-layer paths) removes everything below it.
	if e.Type != TypeDir {
		w.hideBelow(name, li.Index)
	}
	w.res.Files[name] = e
	w.link(name)

	if e.Type != TypeFile {
		return nil
	}
	if w.replay != nil {
		return w.replayFile(li, e)
	}
	w.file.visited = true
	if w.an == nil {
		return nil
	}
	cr := &contentReader{r: content, limit: w.opts.maxFileBytes, size: hdr.Size}
	result, err := w.an.AnalyzeFile(li, e, cr)
	if cr.truncated {
		w.file.truncated = true
		w.fileLimit(li, e)
	}
	if err != nil {
		return fmt.Errorf("visit: %w", err)
	}
	w.file.result = result
	return nil
}

// pathLimit says why an entry's name or link target exceeds the path limits
// ("" if it does not).
func (w *walker) pathLimit(name, link string) string {
	if max := w.opts.maxPathBytes; max > 0 {
		if len(name) > max {
			return fmt.Sprintf("name is %d bytes, more than %d", len(name), max)
		}
		if len(link) > max {
			return fmt.Sprintf("link target is %d bytes, more than %d", len(link), max)
		}
	}
	if max := w.opts.maxPathDepth; max > 0 {
		if d := strings.Count(name, "/") + 1; d > max {
			return fmt.Sprintf("path has %d components, more than %d", d, max)
		}
	}
	return ""
}

// truncateName shortens a name for an issue so a 1 MiB name does not end up
// in every report.
func truncateName(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + fmt.Sprintf("...(%d bytes)", len(s))
}

// replayFile hands the recorded result of the current file to the analyzer.
func (w *walker) replayFile(li *LayerInfo, e *Entry) error {
	src := w.replay
	if src.flags&recVisited == 0 || src.used {
		return errRecord("no file result for %s", e.Path)
	}
	src.used = true
	if w.an != nil {
		if err := w.an.ReplayFile(li, e, src.result); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	if src.flags&recTruncated != 0 {
		w.fileLimit(li, e)
	}
	return nil
}

func (w *walker) fileLimit(li *LayerInfo, e *Entry) {
	w.issue(Issue{Kind: IssueFileLimit, Layer: li.Index, Path: e.Path,
		Detail: fmt.Sprintf("only the first %d of %d bytes were scanned", w.opts.maxFileBytes, e.Size)})
}

// hide marks one version deleted by layer, unless that layer wrote it: a
// whiteout only removes content of lower layers.
func (w *walker) hide(e *Entry, layer int) {
	if e.Hidden || e.Layer >= layer {
		return
	}
	e.Hidden = true
	e.RemovedBy = layer
}

// hideBelow hides every lower-layer entry strictly below dir.
func (w *walker) hideBelow(dir string, layer int) {
	for child := range w.children[dir] {
		if e := w.res.Files[child]; e != nil {
			w.hide(e, layer)
		}
		w.hideBelow(child, layer)
	}
}

// link registers p and its ancestors in the children index.
func (w *walker) link(p string) {
	for p != "" {
		parent := path.Dir(p)
		if parent == "." {
			parent = ""
		}
		set := w.children[parent]
		if set == nil {
			set = map[string]struct{}{}
			w.children[parent] = set
		}
		if _, ok := set[p]; ok {
			return
		}
		set[p] = struct{}{}
		p = parent
	}
}

// contentReader bounds what a visitor can read of one file and remembers
// whether it asked for more than the bound while the file had more.
type contentReader struct {
	r         io.Reader
	limit     int64
	size      int64
	n         int64
	truncated bool
}

func (c *contentReader) Read(p []byte) (int, error) {
	if c.limit > 0 {
		if c.n >= c.limit {
			if c.n < c.size {
				c.truncated = true
			}
			return 0, io.EOF
		}
		if left := c.limit - c.n; int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
