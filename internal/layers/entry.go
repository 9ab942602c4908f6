package layers

import (
	"archive/tar"
	"io/fs"
	"path"
	"strings"
)

// NoLayer marks a layer index that does not exist: an entry no layer
// removed or replaced, a history entry that produced no layer, an issue
// about the image config.
const NoLayer = -1

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
