package sandbox

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Materialise writes img's final filesystem view into dir (which must not
// exist yet) the way Run does before it starts a container: whiteouts
// applied, links placed last and kept inside dir, modes reduced to
// permission bits. maxBytes and maxFiles bound what is written (<= 0: the
// defaults); Rootfs.Limit says when a bound cut the view short. Tools that
// scan extracted files (the peers bench) read the same files strata sees.
func Materialise(ctx context.Context, img v1.Image, dir string, maxBytes int64, maxFiles int) (*Rootfs, error) {
	lim := rootfsLimits{maxBytes: DefaultMaxRootfsBytes, maxFiles: DefaultMaxRootfsFiles}
	if maxBytes > 0 {
		lim.maxBytes = maxBytes
	}
	if maxFiles > 0 {
		lim.maxFiles = maxFiles
	}
	return materialise(ctx, img, dir, lim)
}
