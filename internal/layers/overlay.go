package layers

import (
	"archive/tar"
	"fmt"
	"path"
	"strings"
)

// The overlay applies layers the way a container runtime's overlay
// filesystem does (OCI image spec, "Representing Changes"): a whiteout file
// ".wh.x" deletes x of lower layers, an opaque marker ".wh..wh..opq" deletes
// everything lower layers put in its directory, and a non-directory written
// over a directory deletes what was below it. Deleted versions are kept as
// hidden entries with the layer that removed them, so content an image
// deleted is still analysed and attributed.

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// apply applies one tar header of layer li to the filesystem view and
// returns the new entry when it is a regular file (nil otherwise). Entries
// that are skipped (escaping the root, over the path limits) are issues.
func (w *walker) apply(li *LayerInfo, hdr *tar.Header) *Entry {
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
	if why := w.opts.pathLimit(name, hdr.Linkname); why != "" {
		w.issue(Issue{Kind: IssuePathLimit, Layer: li.Index, Path: truncateName(name),
			Detail: why + "; entry skipped"})
		return nil
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == whiteoutOpaque:
		li.Changes.Opaque = append(li.Changes.Opaque, dir)
		w.hideBelow(dir, li)
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
		li.Changes.Whiteouts = append(li.Changes.Whiteouts, target)
		if e := w.res.Files[target]; e != nil {
			w.hide(e, li)
		}
		w.hideBelow(target, li)
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
		w.hideBelow(name, li)
	}
	w.res.Files[name] = e
	w.link(name)
	li.Changes.Added = append(li.Changes.Added, e)
	if e.Type != TypeFile {
		return nil
	}
	return e
}

// pathLimit says why an entry's name or link target exceeds the path limits
// ("" if it does not).
func (o *walkOptions) pathLimit(name, link string) string {
	if max := o.maxPathBytes; max > 0 {
		if len(name) > max {
			return fmt.Sprintf("name is %d bytes, more than %d", len(name), max)
		}
		if len(link) > max {
			return fmt.Sprintf("link target is %d bytes, more than %d", len(link), max)
		}
	}
	if max := o.maxPathDepth; max > 0 {
		if d := strings.Count(name, "/") + 1; d > max {
			return fmt.Sprintf("path has %d components, more than %d", d, max)
		}
	}
	return ""
}

// regularFile returns the entry apply makes of hdr when that is a regular
// file it hands to the analyzer, nil otherwise. It decides from the header
// and the path limits alone, as apply does (whiteouts, escapes and skipped
// entries are never files), so a layer can be analysed before the layers
// below it are applied.
func (o *walkOptions) regularFile(li *LayerInfo, hdr *tar.Header) *Entry {
	if entryType(hdr.Typeflag) != TypeFile {
		return nil
	}
	name, ok := NormalizePath(hdr.Name)
	if !ok || name == "" || o.pathLimit(name, hdr.Linkname) != "" ||
		strings.HasPrefix(path.Base(name), whiteoutPrefix) {
		return nil
	}
	return &Entry{Path: name, Type: TypeFile, Mode: hdr.FileInfo().Mode(), Size: hdr.Size,
		Layer: li.Index, RemovedBy: NoLayer, ReplacedBy: NoLayer}
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

// hide marks one version deleted by layer li, unless that layer wrote it: a
// whiteout only removes content of lower layers.
func (w *walker) hide(e *Entry, li *LayerInfo) {
	if e.Hidden || e.Layer >= li.Index {
		return
	}
	e.Hidden = true
	e.RemovedBy = li.Index
	li.Changes.Removed = append(li.Changes.Removed, e)
}

// hideBelow hides every lower-layer entry strictly below dir.
//
// It does each path's work once: a whiteout only hides lower-layer
// entries, and no lower-layer entry appears while a layer is applied, so a
// subtree already processed in this layer (dir or an ancestor of it in
// w.hid) has nothing left to hide; and a hidden path without indexed
// children is dropped from the index (a path added again links again).
// Without both, N opaque markers over N files, or N files written over a
// directory of N files, cost N*N.
func (w *walker) hideBelow(dir string, li *LayerInfo) {
	if w.hidLayer != li.Index || w.hid == nil {
		w.hid, w.hidLayer = map[string]struct{}{}, li.Index
	}
	for a := dir; ; a = parentDir(a) {
		if _, done := w.hid[a]; done {
			return
		}
		if a == "" {
			break
		}
	}
	w.hideTree(dir, li)
}

func (w *walker) hideTree(dir string, li *LayerInfo) {
	w.hid[dir] = struct{}{}
	set := w.children[dir]
	for child := range set {
		w.hideWork++
		e := w.res.Files[child]
		if e != nil {
			w.hide(e, li)
		}
		if _, done := w.hid[child]; !done {
			w.hideTree(child, li)
		}
		if len(w.children[child]) == 0 && (e == nil || e.Hidden) {
			delete(set, child)
			delete(w.children, child)
		}
	}
	if len(set) == 0 {
		delete(w.children, dir)
	}
}

// parentDir is path.Dir for the walker's keys: "" for top-level paths.
func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// link registers p and its ancestors in the children index.
func (w *walker) link(p string) {
	for p != "" {
		parent := parentDir(p)
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
