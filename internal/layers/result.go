package layers

import (
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

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
	// Cached is true when the layer was replayed from recorded entries (a
	// LayerSource, e.g. a layer cache) instead of being read; Entries and
	// Bytes are the recorded ones.
	Cached bool `json:"cached,omitempty"`
	// Mismatch is true when the layer's blob, read whole, hashed (or
	// counted) to other than the manifest's digest and size: the bytes
	// read are not the layer the image names (a runtime refuses them), so
	// a consumer should void what it found in them.
	Mismatch bool `json:"mismatch,omitempty"`
	// Changes is what the layer did to the filesystem: final once Walk has
	// returned.
	Changes Changes `json:"-"`
}

// Changes is what one layer did to the filesystem, so a consumer that works
// layer by layer (a baseline scanning each layer tarball on its own) need
// not apply whiteouts itself.
type Changes struct {
	// Added are the versions the layer wrote (new paths and replacements of
	// lower versions), in tar order. Entry.Hidden, RemovedBy and ReplacedBy
	// say what later layers did to each.
	Added []*Entry
	// Removed are the lower-layer versions the layer deleted, sorted by
	// path: by a whiteout of the path or of a parent, an opaque parent
	// directory, or a non-directory written over a parent.
	Removed []*Entry
	// Whiteouts are the paths the layer's whiteout files name (".wh.x" in
	// dir deletes "dir/x"), Opaque the directories it made opaque
	// (".wh..wh..opq"), both normalised and in tar order. They are recorded
	// whether or not a lower layer had anything there.
	Whiteouts []string
	Opaque    []string
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
	// recorded entries (the bytes the recording walk read).
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

// NotScanned returns the issues that mean some content was not scanned or
// is not verifiably the content the image names (Issue.NotScanned).
func (r *Result) NotScanned() []Issue {
	var out []Issue
	for _, is := range r.Issues {
		if is.NotScanned() {
			out = append(out, is)
		}
	}
	return out
}
