//go:build !unix

package layercache

import (
	"fmt"
	"io/fs"
)

// checkDir only checks that dir is a directory: ownership and mode bits
// are not portable beyond unix.
func checkDir(dir string, fi fs.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("layer cache directory %s is not a directory: choose another cache directory", dir)
	}
	return nil
}
