package detectors

import (
	"archive/tar"
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
)

// Issue is a non-fatal problem reported by Walk.
type Issue struct {
	Kind   IssueKind `json:"kind"`
	Layer  int       `json:"layer"`
	Path   string    `json:"path,omitempty"`
	Detail string    `json:"detail"`
}

// Limit reports whether the issue means some content was not scanned.
func (i Issue) Limit() bool {
	switch i.Kind {
	case IssueFileLimit, IssueEntryLimit, IssueTotalLimit:
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
	maxFileBytes  int64
	maxEntries    int
	maxTotalBytes int64
	cache         *LayerCache
	analyzerKey   string
}

// WithMaxFileBytes bounds the bytes of one file a visitor can read; n <= 0
// removes the bound.
func WithMaxFileBytes(n int64) WalkOption { return func(o *walkOptions) { o.maxFileBytes = n } }

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

// errTotalLimit is returned by the counting reader once MaxTotalBytes is
// exceeded; it surfaces through tar.Reader and visitors.
var errTotalLimit = errors.New("total uncompressed byte limit exceeded")

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
	o := walkOptions{
		maxFileBytes:  DefaultMaxFileBytes,
		maxEntries:    DefaultMaxEntries,
		maxTotalBytes: DefaultMaxTotalBytes,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.cache != nil && noReplay {
		return nil, errors.New("walk: a layer cache needs a FileAnalyzer (WalkAnalyzer), not a VisitFunc")
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list image layers: %w", err)
	}
	w := &walker{
		opts:     o,
		an:       a,
		children: map[string]map[string]struct{}{},
		res:      &Result{Files: map[string]*Entry{}},
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
	w.res.History = make([]HistoryEntry, len(cf.History))
	for i, h := range cf.History {
		w.res.History[i] = HistoryEntry{Index: i, History: h, Layer: NoLayer}
		if !h.EmptyLayer {
			nonEmpty = append(nonEmpty, i)
		}
	}
	if len(nonEmpty) != len(w.res.Layers) {
		w.issue(Issue{Kind: IssueHistoryMismatch, Layer: NoLayer,
			Detail: fmt.Sprintf("%d non-empty history entries for %d layers; aligned bottom-up", len(nonEmpty), len(w.res.Layers))})
	}
	for k := 0; k < len(nonEmpty) && k < len(w.res.Layers); k++ {
		hi := nonEmpty[k]
		li := &w.res.Layers[k]
		li.HistoryIndex = hi
		li.CreatedBy = cf.History[hi].CreatedBy
		w.res.History[hi].Layer = k
		end := len(cf.History)
		if k+1 < len(nonEmpty) {
			end = nonEmpty[k+1]
		}
		for j := hi + 1; j < end; j++ {
			li.EmptyAfter = append(li.EmptyAfter, j)
		}
	}
}

// countingReader counts uncompressed bytes and enforces MaxTotalBytes.
type countingReader struct {
	r io.Reader
	w *walker
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	if max := c.w.opts.maxTotalBytes; max > 0 {
		left := max - c.w.total
		if left <= 0 {
			return 0, errTotalLimit
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.w.total += int64(n)
	*c.n += int64(n)
	return n, err
}

// fileState is what the walker did with the current entry's file, for the
// record.
type fileState struct {
	visited, truncated bool
	result             []byte
}

// walkLayer applies one layer: replayed from the cache when it has the
// layer's record and the record fits in what is left of MaxTotalBytes (so the
// limit would not have cut it), streamed from the blob otherwise.
func (w *walker) walkLayer(ctx context.Context, i int, l v1.Layer) error {
	li := &w.res.Layers[i]
	key := ""
	if w.opts.cache != nil {
		key = cacheKey(w.opts.analyzerKey, li.DiffID.String(), w.opts)
		if rec, ok := w.opts.cache.get(key); ok {
			src, err := newRecordSource(rec)
			if err != nil {
				w.opts.cache.drop(key)
			} else if max := w.opts.maxTotalBytes; max <= 0 || w.total+src.bytes < max {
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
	rs, err := openLayer(l, key != "")
	if err != nil {
		return fmt.Errorf("open layer %d (%s): %w", i, li.DiffID, err)
	}
	defer rs.Close()
	if key != "" {
		w.rec = newRecorder(w.opts.cache.recordLimit())
		defer func() { w.rec = nil }()
	}
	tr := tar.NewReader(countingReader{r: rs, w: w, n: &li.Bytes})
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			li.Complete = true
			if w.rec != nil {
				if rec := w.rec.finish(li.Bytes); rec != nil && rs.verify(li.DiffID) {
					w.opts.cache.put(key, rec)
				}
			}
			return nil
		}
		if errors.Is(err, errTotalLimit) {
			w.stopTotal(i)
			return nil
		}
		if err != nil {
			return fmt.Errorf("read layer %d (%s): %w", i, li.DiffID, err)
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
			if errors.Is(err, errTotalLimit) {
				w.stopTotal(i)
				return nil
			}
			return fmt.Errorf("layer %d (%s) %s: %w", i, li.DiffID, hdr.Name, err)
		}
		if w.rec != nil {
			w.rec.done(w.file.visited, w.file.truncated, w.file.result)
		}
	}
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
	case tar.TypeReg:
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
		w.issue(Issue{Kind: IssuePathEscape, Layer: li.Index, Path: hdr.Name,
			Detail: "tar entry escapes the root; skipped"})
		return nil
	}
	if name == "" {
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
