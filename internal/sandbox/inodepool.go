package sandbox

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// defaultPoolFiles bounds the empty files an inode pool keeps.
const defaultPoolFiles = 100_000

// inodePool keeps the regular files of removed layer directories, emptied,
// for later extractions to reuse instead of creating new ones.
//
// Why: on ext4 without a journal (the filesystem of many cloud and
// microVM root disks), allocating an inode skips every free inode whose
// deletion time is within the last 60 s (300 s while its inode table block
// is dirty), reading each one's table block to find out: after a layer of
// 10,000 files is removed, each of the next creations in that block group
// costs around half a millisecond instead of tens of microseconds, and a
// cold image of 11,000 files took 6-7 s to extract instead of 2-3 s. A
// rename moves an existing inode without allocating one, so a store that
// evicts layers (its steady state under a long experiment) recycles their
// inodes instead of paying that search for each new file.
//
// The pool is a directory inside the store (mode 0700, root's); it holds
// only files this package put there, each truncated to zero bytes, so it
// costs inodes and directory entries, never data blocks. Several
// processes may share it: a file taken by another process is simply
// missing (ENOENT) and the next one is tried.
type inodePool struct {
	dir string
	max int

	mu    sync.Mutex
	count int // approximate (other processes change it too); -1 unknown
	seq   atomic.Uint64
}

func newInodePool(dir string, max int) *inodePool {
	return &inodePool{dir: dir, max: max, count: -1}
}

// reserve claims room for one more file, counting the directory once per
// process; false when the pool is full.
func (p *inodePool) reserve() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count < 0 {
		p.count = countEntries(p.dir, p.max)
	}
	if p.count >= p.max {
		return false
	}
	p.count++
	return true
}

func (p *inodePool) release(n int) {
	p.mu.Lock()
	if p.count >= n {
		p.count -= n
	}
	p.mu.Unlock()
}

// countEntries counts dir's entries, stopping at limit.
func countEntries(dir string, limit int) int {
	d, err := os.Open(dir)
	if err != nil {
		return 0
	}
	defer d.Close()
	n := 0
	for n < limit {
		names, err := d.Readdirnames(1024)
		n += len(names)
		if err != nil {
			break
		}
	}
	return n
}

// removeAll removes dir like os.RemoveAll, first moving its regular files
// (those with one link: a hard-linked file's other names would keep its
// content) into the pool, emptied, while the pool has room. Symbolic links
// are never followed: only entries that are regular files themselves are
// opened, with O_NOFOLLOW.
func (p *inodePool) removeAll(dir string) error {
	if err := os.MkdirAll(p.dir, 0o700); err == nil {
		full := false
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || full || !d.Type().IsRegular() {
				return nil
			}
			if !p.reserve() {
				full = true
				return filepath.SkipAll
			}
			if !p.recycle(path) {
				p.release(1)
			}
			return nil
		})
	}
	return os.RemoveAll(dir)
}

// recycle moves the regular file at path into the pool and empties it.
// It is first renamed to a staging name no placer takes (a leading dot):
// once moved out of the tree, no other remover of the same tree (another
// process evicting, or one that found it abandoned) can reach it, and no
// extraction can take it before it is empty.
func (p *inodePool) recycle(path string) bool {
	seq := strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(p.seq.Add(1), 10)
	staged := filepath.Join(p.dir, "."+seq)
	if unix.Renameat2(unix.AT_FDCWD, path, unix.AT_FDCWD, staged, unix.RENAME_NOREPLACE) != nil {
		return false // gone (another remover took it) or not movable
	}
	fd, err := unix.Open(staged, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	ok := err == nil
	if ok {
		var st unix.Stat_t
		ok = unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink == 1 && unix.Ftruncate(fd, 0) == nil
		unix.Close(fd)
	}
	if ok && unix.Renameat2(unix.AT_FDCWD, staged, unix.AT_FDCWD, filepath.Join(p.dir, seq), unix.RENAME_NOREPLACE) == nil {
		return true
	}
	os.Remove(staged)
	return false
}

// placer puts new regular files into one extraction's tree, taking pooled
// inodes while the pool has any. It is used by one goroutine.
type placer struct {
	pool  *inodePool
	root  *os.Root
	dir   *os.File // the pool, open for listing; nil once it ran dry
	names []string
	// The parent directory of the last file placed, open through root
	// (files of one directory come together in a tar).
	parent     string
	parentFile *os.File
	taken      int
}

func (p *inodePool) placer(root *os.Root) *placer {
	pl := &placer{pool: p, root: root}
	if d, err := os.Open(p.dir); err == nil {
		pl.dir = d
	}
	return pl
}

// close releases the placer's descriptors and settles the pool's count.
func (pl *placer) close() {
	if pl.dir != nil {
		pl.dir.Close()
	}
	if pl.parentFile != nil {
		pl.parentFile.Close()
	}
	pl.pool.release(pl.taken)
}

// create returns a new, empty regular file at rel (whose parent directory
// exists, and at which nothing exists), open for writing: a pooled inode
// renamed into place when one is left, else a file created through root.
// Either way the name is placed with no-replace semantics and opened
// without following links, so it never writes through anything the layer
// made.
func (pl *placer) create(parent, base, rel string) (*os.File, error) {
	if f := pl.take(parent, base); f != nil {
		return f, nil
	}
	return pl.root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
}

func (pl *placer) take(parent, base string) *os.File {
	if pl.dir == nil {
		return nil
	}
	if pl.parentFile == nil || pl.parent != parent {
		if pl.parentFile != nil {
			pl.parentFile.Close()
			pl.parentFile = nil
		}
		f, err := pl.root.Open(parent)
		if err != nil {
			return nil
		}
		pl.parent, pl.parentFile = parent, f
	}
	pfd := int(pl.parentFile.Fd())
	for {
		if len(pl.names) == 0 {
			names, err := pl.dir.Readdirnames(256)
			if len(names) == 0 || (err != nil && !errors.Is(err, io.EOF)) {
				pl.dir.Close()
				pl.dir = nil
				return nil
			}
			pl.names = names
		}
		name := pl.names[0]
		pl.names = pl.names[1:]
		if strings.HasPrefix(name, ".") {
			continue // still being emptied (recycle)
		}
		err := unix.Renameat2(int(pl.dir.Fd()), name, pfd, base, unix.RENAME_NOREPLACE)
		if errors.Is(err, unix.ENOENT) {
			continue // another extraction took it
		}
		if err != nil {
			return nil
		}
		pl.taken++
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Unlinkat(pfd, base, 0)
			return nil
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
			unix.Close(fd)
			unix.Unlinkat(pfd, base, 0)
			return nil
		}
		// Only permission bits are set later; start private.
		unix.Fchmod(fd, 0o600)
		return os.NewFile(uintptr(fd), filepath.Join(pl.parentFile.Name(), base))
	}
}
