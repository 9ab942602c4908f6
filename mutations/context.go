package mutations

// Changing a private copy of the build context without writing through
// hard links and with reproducible mtimes.

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ctxEditor changes a build context. Every write goes to a new file that
// is renamed over the old name, so a hard link into a shared cache is
// never written through; new files get fixed mtimes and the mtimes of the
// directories it changes are restored, so the same seed gives the same
// context.
type ctxEditor struct {
	dir      string
	dirTimes map[string]time.Time
	reserved map[string]bool
}

func newCtxEditor(dir string) *ctxEditor {
	return &ctxEditor{dir: dir, dirTimes: map[string]time.Time{}, reserved: map[string]bool{}}
}

func (c *ctxEditor) abs(rel string) string { return filepath.Join(c.dir, filepath.FromSlash(rel)) }

func (c *ctxEditor) keepDirTime(rel string) error {
	d := path.Dir(rel)
	if _, ok := c.dirTimes[d]; ok {
		return nil
	}
	fi, err := os.Stat(c.abs(d))
	if err != nil {
		return err
	}
	c.dirTimes[d] = fi.ModTime()
	return nil
}

// rootTime is the context root's mtime, the mtime of files made from
// nothing (wrapper scripts).
func (c *ctxEditor) rootTime() (time.Time, error) {
	fi, err := os.Stat(c.dir)
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

// free returns a context path in directory relDir named base, or base-2,
// base-3... when that is taken.
func (c *ctxEditor) free(relDir, base string) string {
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		rel := path.Join(relDir, name)
		if _, err := os.Lstat(c.abs(rel)); errors.Is(err, os.ErrNotExist) && !c.reserved[rel] {
			c.reserved[rel] = true
			return rel
		}
	}
}

// write replaces (or creates) rel with data, mode and mtime.
func (c *ctxEditor) write(rel string, data []byte, mode os.FileMode, mtime time.Time) error {
	if err := c.keepDirTime(rel); err != nil {
		return err
	}
	p := c.abs(rel)
	f, err := os.CreateTemp(filepath.Dir(p), ".strata-tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Chtimes(tmp, mtime, mtime)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write context file %s: %w", rel, err)
	}
	return nil
}

func (c *ctxEditor) remove(rel string) error {
	if err := c.keepDirTime(rel); err != nil {
		return err
	}
	return os.Remove(c.abs(rel))
}

func (c *ctxEditor) rename(from, to string) error {
	if err := c.keepDirTime(from); err != nil {
		return err
	}
	if err := c.keepDirTime(to); err != nil {
		return err
	}
	return os.Rename(c.abs(from), c.abs(to))
}

// done restores the mtimes of the directories it changed.
func (c *ctxEditor) done() error {
	dirs := make([]string, 0, len(c.dirTimes))
	for d := range c.dirTimes {
		dirs = append(dirs, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // deepest first
	for _, d := range dirs {
		if err := os.Chtimes(c.abs(d), c.dirTimes[d], c.dirTimes[d]); err != nil {
			return err
		}
	}
	return nil
}

// copiedFiles lists the context files (slash paths) the final stage's
// ADD/COPY instructions other than skip read, directories walked.
func (d *dockerfile) copiedFiles(dir string, skip *parser.Node) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i, n := range d.Final().Instructions {
		a, ok := parseAddCopy(n, i)
		if !ok || n == skip {
			continue
		}
		if _, from := a.flag("from"); from {
			continue
		}
		for _, src := range a.srcs {
			if strings.Contains(src, "://") || strings.ContainsAny(src, "*?[$") {
				continue
			}
			root := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(path.Clean("/"+src), "/")))
			err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
				if err != nil || !e.Type().IsRegular() {
					return nil
				}
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					return err
				}
				if rel = filepath.ToSlash(rel); !seen[rel] {
					seen[rel] = true
					out = append(out, rel)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
