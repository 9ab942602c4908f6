package detectortest

import (
	"archive/tar"
	"bytes"
	"io"
	"path"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is one tar entry. A zero Type means a regular file; a zero Mode means
// 0644 for files and 0755 for directories.
type File struct {
	Name     string
	Body     string
	Mode     int64
	Type     byte
	Linkname string
}

// Exec is a regular file with mode 0755.
func Exec(name, body string) File { return File{Name: name, Body: body, Mode: 0o755} }

// Text is a regular file with mode 0644.
func Text(name, body string) File { return File{Name: name, Body: body} }

// Dir is a directory entry.
func Dir(name string) File { return File{Name: name, Type: tar.TypeDir} }

// Symlink is a symbolic link to target.
func Symlink(name, target string) File {
	return File{Name: name, Type: tar.TypeSymlink, Linkname: target}
}

// Hardlink is a hard link to target (an archive path).
func Hardlink(name, target string) File {
	return File{Name: name, Type: tar.TypeLink, Linkname: target}
}

// Whiteout deletes p (and everything below it) from lower layers.
func Whiteout(p string) File {
	dir, base := path.Split(p)
	return File{Name: dir + ".wh." + base}
}

// Opaque hides the lower-layer contents of dir.
func Opaque(dir string) File { return File{Name: path.Join(dir, ".wh..wh..opq")} }

// Epoch is the mtime of every entry, so layers are reproducible.
var Epoch = time.Unix(1700000000, 0).UTC()

// Tar returns the uncompressed tar of files.
func Tar(files ...File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: f.Name, Typeflag: typ, Mode: mode, Linkname: f.Linkname, ModTime: Epoch, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(f.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, f.Body); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Layer builds a layer from files, failing t on error.
func Layer(t testing.TB, files ...File) v1.Layer {
	t.Helper()
	b, err := Tar(files...)
	if err != nil {
		t.Fatalf("build tar: %v", err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatalf("build layer: %v", err)
	}
	return l
}

// Step is one history entry. With Empty set it has no layer (ENV, ENTRYPOINT,
// WORKDIR ...); otherwise its Files form a layer (possibly an empty tar).
type Step struct {
	CreatedBy string
	Files     []File
	Empty     bool
}

// Run is a BuildKit-style RUN step producing files.
func Run(cmd string, files ...File) Step {
	return Step{CreatedBy: "RUN /bin/sh -c " + cmd + " # buildkit", Files: files}
}

// Meta is a metadata-only step (empty_layer: true).
func Meta(createdBy string) Step { return Step{CreatedBy: createdBy, Empty: true} }

// Image builds an image with config cfg and one history entry per step,
// failing t on error.
func Image(t testing.TB, cfg v1.Config, steps ...Step) v1.Image {
	t.Helper()
	img, err := mutate.Config(empty.Image, cfg)
	if err != nil {
		t.Fatalf("set config: %v", err)
	}
	adds := make([]mutate.Addendum, 0, len(steps))
	for _, s := range steps {
		add := mutate.Addendum{History: v1.History{CreatedBy: s.CreatedBy, EmptyLayer: s.Empty, Created: v1.Time{Time: Epoch}}}
		if !s.Empty {
			add.Layer = Layer(t, s.Files...)
		}
		adds = append(adds, add)
	}
	img, err = mutate.Append(img, adds...)
	if err != nil {
		t.Fatalf("append layers: %v", err)
	}
	return img
}
