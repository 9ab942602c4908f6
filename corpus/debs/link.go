package debs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Link fills dst, a build-context directory, with the *.deb files and the
// manifest Fetch wrote to src: hard links where the file system allows,
// copies otherwise. Builds bind-mount dst, so the packages never land in an
// image layer.
func Link(dst, src string) error {
	matches, err := filepath.Glob(filepath.Join(src, "*.deb"))
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		return fmt.Errorf("no .deb files in %s (run debs.Fetch first)", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if st, err := os.Stat(filepath.Join(src, ManifestFile)); err == nil && st.Mode().IsRegular() {
		matches = append(matches, filepath.Join(src, ManifestFile))
	}
	for _, m := range matches {
		if err := linkOrCopy(m, filepath.Join(dst, filepath.Base(m))); err != nil {
			return fmt.Errorf("debs: %w", err)
		}
	}
	return nil
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	// Different file systems (or no hard-link support): copy instead.
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
