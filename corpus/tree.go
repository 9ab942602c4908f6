package corpus

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"
)

// WriteTree copies fsys into dir with the file modes mode gives (by
// slash-separated path) and every mtime set to date. COPY keeps a context
// file's mode and mtime, so both are fixed here rather than inherited from a
// checkout or umask: the same tree gives the same layer.
func WriteTree(dir string, fsys fs.FS, mode func(p string) os.FileMode, date time.Time) error {
	var dirs []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			dirs = append(dirs, target)
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return WriteFile(target, data, mode(path.Clean(p)), date)
	})
	if err != nil {
		return err
	}
	// Directory mtimes last, deepest first: writing into a directory bumps it.
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if err := os.Chtimes(d, date, date); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes data to p (creating parents) with exactly mode, whatever
// the umask, and mtime date.
func WriteFile(p string, data []byte, mode os.FileMode, date time.Time) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(p, mode); err != nil {
		return err
	}
	return os.Chtimes(p, date, date)
}
