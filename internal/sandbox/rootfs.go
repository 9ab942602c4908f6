package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/internal/layers"
)

// Default bounds of a materialised root filesystem. An image beyond them is
// run with what fits, and the cut is reported (Rootfs.Skipped, Limit).
const (
	DefaultMaxRootfsBytes int64 = 2 << 30
	DefaultMaxRootfsFiles       = 200_000
)

// Rootfs is an image's final filesystem view written to a directory.
type Rootfs struct {
	Dir string
	// Walk is the walker's result: the layer that wrote each path.
	Walk *layers.Result
	// Files and Bytes count the regular files written and their bytes.
	Files int
	Bytes int64
	// Skipped lists what was not written and why (device nodes, fifos,
	// entries a link made unreachable, entries past a limit).
	Skipped []string
	// Limit is set when a byte or file bound cut the root filesystem short.
	Limit string
}

// rootfsLimits bounds what materialise writes.
type rootfsLimits struct {
	maxBytes int64
	maxFiles int
	// maxEntries bounds every entry a layer store extraction creates
	// (directories, links and whiteouts too): 0 means twice maxFiles, a
	// negative value none at all.
	maxEntries int
}

func (l rootfsLimits) entryBound() int {
	if l.maxEntries == 0 {
		return 2 * l.maxFiles
	}
	return max(0, l.maxEntries)
}

// materialise writes img's final view into dir (which must not exist yet).
// Regular files are first written to blob files as the walker streams them
// (a later version of a path replaces the earlier blob), then the final view
// is built: directories, files moved into place, hard links, and symbolic
// links last, so no link exists while content is placed and nothing can be
// written through one. Modes keep only permission bits (no setuid, setgid
// or sticky on files); ownership is root's.
func materialise(ctx context.Context, img v1.Image, dir string, lim rootfsLimits) (*Rootfs, error) {
	blobs := dir + ".blobs"
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	defer os.RemoveAll(blobs)
	rf := &Rootfs{Dir: dir}
	blobOf := map[*layers.Entry]string{}
	n := 0
	visit := func(_ *layers.LayerInfo, e *layers.Entry, r io.Reader) error {
		if e.Previous != nil {
			if b, ok := blobOf[e.Previous]; ok {
				if fi, err := os.Stat(b); err == nil {
					rf.Bytes -= fi.Size()
					rf.Files--
				}
				os.Remove(b)
				delete(blobOf, e.Previous)
			}
		}
		if rf.Limit != "" {
			return nil
		}
		if rf.Files >= lim.maxFiles {
			rf.Limit = fmt.Sprintf("file limit %d reached at /%s", lim.maxFiles, e.Path)
			return nil
		}
		if rf.Bytes+e.Size > lim.maxBytes {
			rf.Limit = fmt.Sprintf("byte limit %d reached at /%s (%d bytes)", lim.maxBytes, e.Path, e.Size)
			return nil
		}
		n++
		b := filepath.Join(blobs, strconv.Itoa(n))
		f, err := os.OpenFile(b, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("write blob of /%s: %w", e.Path, err)
		}
		w, err := io.Copy(f, io.LimitReader(r, lim.maxBytes-rf.Bytes+1))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write blob of /%s: %w", e.Path, err)
		}
		rf.Bytes += w
		rf.Files++
		blobOf[e] = b
		return nil
	}
	res, err := layers.Walk(ctx, img, visit)
	if err != nil {
		return nil, fmt.Errorf("walk image: %w", err)
	}
	rf.Walk = res
	if err := rf.build(blobOf); err != nil {
		return nil, err
	}
	return rf, nil
}

// build lays out the final view under rf.Dir through an os.Root, which
// refuses any path that resolves outside it.
func (rf *Rootfs) build(blobOf map[*layers.Entry]string) error {
	if err := os.Mkdir(rf.Dir, 0o755); err != nil {
		return fmt.Errorf("create rootfs dir: %w", err)
	}
	root, err := os.OpenRoot(rf.Dir)
	if err != nil {
		return fmt.Errorf("open rootfs dir: %w", err)
	}
	defer root.Close()
	var live []*layers.Entry
	for _, p := range rf.Walk.Paths() {
		if e := rf.Walk.Files[p]; !e.Hidden && p != "" {
			live = append(live, e)
		}
	}
	skip := func(e *layers.Entry, why string) { rf.Skipped = append(rf.Skipped, "/"+e.Path+": "+why) }
	var dirs []*layers.Entry
	for _, kind := range []layers.EntryType{layers.TypeDir, layers.TypeFile, layers.TypeHardlink, layers.TypeSymlink, layers.TypeOther} {
		for _, e := range live {
			if e.Type != kind {
				continue
			}
			if kind != layers.TypeDir {
				if err := root.MkdirAll(path.Dir(e.Path), 0o755); err != nil {
					skip(e, "parent: "+err.Error())
					continue
				}
			}
			var err error
			switch kind {
			case layers.TypeDir:
				err = root.MkdirAll(e.Path, 0o755)
				dirs = append(dirs, e)
			case layers.TypeFile:
				b, ok := blobOf[e]
				if !ok {
					skip(e, "not written (limit)")
					continue
				}
				// No symbolic link exists yet and every parent was made
				// through root, so the host path stays inside rf.Dir.
				if err = os.Rename(b, filepath.Join(rf.Dir, filepath.FromSlash(e.Path))); err == nil {
					err = root.Chmod(e.Path, e.Mode.Perm())
				}
			case layers.TypeHardlink:
				err = root.Link(e.Linkname, e.Path)
			case layers.TypeSymlink:
				err = root.Symlink(e.Linkname, e.Path)
			default:
				skip(e, "device node or fifo not created")
				continue
			}
			if err != nil {
				skip(e, err.Error())
			}
		}
	}
	// Directory modes last (deepest first), so read-only directories were
	// writable while being filled; the sticky bit stays (/tmp).
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Path > dirs[j].Path })
	for _, d := range dirs {
		mode := d.Mode.Perm()
		if d.Mode&os.ModeSticky != 0 {
			mode |= os.ModeSticky
		}
		if err := root.Chmod(d.Path, mode); err != nil && !errors.Is(err, os.ErrNotExist) {
			skip(d, err.Error())
		}
	}
	return nil
}

// Origin is the layer that last wrote an executable.
type Origin struct {
	Layer     int    `json:"layer"`
	DiffID    string `json:"diff_id,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}

// OriginOf resolves p (an absolute path inside the container) through the
// final view, following symbolic links inside the view (the file's own and
// its directories': /bin/bash where /bin links to usr/bin), and returns the
// layer that last wrote the file it names.
func OriginOf(res *layers.Result, p string) (Origin, bool) {
	none := Origin{Layer: layers.NoLayer}
	if res == nil {
		return none, false
	}
	for range 16 {
		e, ok := res.Lookup(p)
		if !ok || e.Hidden {
			// A directory on the way may be a link (one that replaced
			// a directory hides what the directory held).
			q, ok := resolveDirLink(res, p)
			if !ok {
				return none, false
			}
			p = q
			continue
		}
		switch e.Type {
		case layers.TypeSymlink:
			p = linkTarget(e)
			continue
		case layers.TypeHardlink:
			if t, ok := res.Lookup(e.Linkname); ok {
				e = t
			}
		}
		o := Origin{Layer: e.Layer}
		if e.Layer >= 0 && e.Layer < len(res.Layers) {
			o.DiffID = res.Layers[e.Layer].DiffID.String()
			o.CreatedBy = res.Layers[e.Layer].CreatedBy
		}
		return o, true
	}
	return none, false
}

// linkTarget is a symbolic link's target as an absolute path in the view.
func linkTarget(e *layers.Entry) string {
	if path.IsAbs(e.Linkname) {
		return e.Linkname
	}
	return path.Join("/", path.Dir(e.Path), e.Linkname)
}

// resolveDirLink rewrites p's first directory that is a symbolic link in the
// view into the link's target; false when no directory of p is one.
func resolveDirLink(res *layers.Result, p string) (string, bool) {
	n, ok := layers.NormalizePath(p)
	if !ok {
		return "", false
	}
	parts := strings.Split(n, "/")
	for i := 1; i < len(parts); i++ {
		// A directory a layer only implied has no entry.
		e, ok := res.Files[strings.Join(parts[:i], "/")]
		if ok && !e.Hidden && e.Type == layers.TypeSymlink {
			return path.Join(linkTarget(e), strings.Join(parts[i:], "/")), true
		}
	}
	return "", false
}
