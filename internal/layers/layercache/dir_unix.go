//go:build unix

package layercache

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkDir refuses a cache directory that is not a directory, is owned by
// another user, or is writable by group or others.
func checkDir(dir string, fi fs.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("layer cache directory %s is not a directory: choose another cache directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("layer cache directory %s is owned by uid %d, not the current user (uid %d): its records could make an image scan clean; use a cache directory of your own (or chown it)",
			dir, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("layer cache directory %s is writable by group or others (mode %v): anyone who can write it can plant records that make an image scan clean; run chmod go-w %s or use another cache directory",
			dir, perm, dir)
	}
	return nil
}
