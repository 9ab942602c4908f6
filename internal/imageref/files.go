package imageref

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// openFlags open without blocking: opening a FIFO for reading otherwise
// waits for a writer, forever. Regular files ignore O_NONBLOCK.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// regular returns f if it is a regular file and closes it otherwise: a
// FIFO or a device as a layout file would hang or never end the reads.
func regular(f *os.File, name string) (*os.File, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is a %s, not a regular file: strata reads images only from regular files", name, fileKind(fi.Mode()))
	}
	return f, fi.Size(), nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&os.ModeDevice != 0:
		return "device"
	case m&os.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return "special file (" + m.Type().String() + ")"
}

// openRegularFile opens the regular file p.
func openRegularFile(p string) (*os.File, int64, error) {
	f, err := os.OpenFile(p, openFlags, 0)
	if err != nil {
		return nil, 0, err
	}
	return regular(f, p)
}

// rootSource is a layout directory, opened as an os.Root: every file is
// read from inside it, so a blob that is a symlink (or a path with ..)
// leading out of the layout fails to open instead of reading another file.
type rootSource struct {
	root *os.Root
	dir  string
}

func openRoot(dir string) (*rootSource, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &rootSource{root: r, dir: dir}, nil
}

func (r *rootSource) open(name string) (io.ReadCloser, int64, error) {
	f, err := r.root.OpenFile(name, openFlags, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", r.dir, err)
	}
	return regular(f, name)
}
