package detectortest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TreeTar returns an uncompressed tar of the directories, regular files and
// symlinks under root, named prefix/<relative path>, in lexical order, up to
// maxBytes of file content (files that would exceed it are left out).
// Unreadable entries are skipped. It exists for benchmarks that need a
// realistic large layer without committing one: the tree is read at run time.
func TreeTar(root, prefix string, maxBytes int64) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || total >= maxBytes {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return nil
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return nil
		}
		hdr := &tar.Header{Name: name, Mode: int64(info.Mode().Perm()), ModTime: Epoch, Format: tar.FormatPAX}
		switch {
		case d.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return nil
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		case d.Type().IsRegular():
			if total+info.Size() > maxBytes {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(b))
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			total += hdr.Size
			_, err = tw.Write(b)
			return err
		default:
			return nil
		}
		return tw.WriteHeader(hdr)
	})
	if err != nil {
		return nil, fmt.Errorf("tar %s: %w", root, err)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// GzipLayer compresses an uncompressed tar at level and returns it as a
// layer whose Compressed() is the stored blob, like a layer read from a
// registry or an OCI layout.
func GzipLayer(t testing.TB, tarBytes []byte, level int) v1.Layer {
	t.Helper()
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, level)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if _, err := zw.Write(tarBytes); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	b := gz.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatalf("build layer: %v", err)
	}
	return l
}

// LayoutImage writes an image with cfg and layers (one history entry each,
// created_by from createdBy) to an OCI layout in dir and returns it read back
// from disk, so layers behave as the experiments see them: blobs read from
// files, digests from the manifest, diffIDs from the config.
func LayoutImage(t testing.TB, dir string, cfg v1.Config, layers []v1.Layer, createdBy []string) v1.Image {
	t.Helper()
	img, err := mutate.Config(empty.Image, cfg)
	if err != nil {
		t.Fatalf("set config: %v", err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i, l := range layers {
		img, err = mutate.Append(img, mutate.Addendum{Layer: l,
			History: v1.History{CreatedBy: createdBy[i], Created: v1.Time{Time: Epoch}}})
		if err != nil {
			t.Fatalf("append layer %d: %v", i, err)
		}
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatalf("write layout: %v", err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatalf("write image: %v", err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatalf("image digest: %v", err)
	}
	out, err := p.Image(h)
	if err != nil {
		t.Fatalf("read image back: %v", err)
	}
	return out
}

// The large image for benchmarks, built once per process by LargeImage.
var large struct {
	once  sync.Once
	dir   string
	img   v1.Image
	bytes int64
	err   string
}

// LargeImage returns an OCI-layout image whose first layer is a gzip-ed tar
// of a real directory tree of this machine (STRATA_BENCH_TREE, default
// /usr/lib/x86_64-linux-gnu, at most STRATA_BENCH_MB MiB of file content,
// default 256) and whose second layer adds a start script (the ENTRYPOINT),
// and the uncompressed bytes of its layers. It is built at run time in a
// temporary directory, once per process; call RemoveLargeImage from TestMain.
// It skips tb when the tree is missing.
func LargeImage(tb testing.TB) (v1.Image, int64) {
	tb.Helper()
	large.once.Do(func() {
		root := os.Getenv("STRATA_BENCH_TREE")
		if root == "" {
			root = "/usr/lib/x86_64-linux-gnu"
		}
		mb := int64(256)
		if s := os.Getenv("STRATA_BENCH_MB"); s != "" {
			if _, err := fmt.Sscan(s, &mb); err != nil {
				large.err = "STRATA_BENCH_MB: " + err.Error()
				return
			}
		}
		if _, err := os.Stat(root); err != nil {
			large.err = "no tree to build a layer from: " + err.Error()
			return
		}
		base, err := TreeTar(root, "usr/lib/x86_64-linux-gnu", mb<<20)
		if err != nil {
			large.err = err.Error()
			return
		}
		top, err := Tar(Exec("usr/local/bin/start.sh", "#!/bin/sh\nexec /usr/bin/app \"$@\"\n"))
		if err != nil {
			large.err = err.Error()
			return
		}
		if large.dir, err = os.MkdirTemp("", "strata-bench-"); err != nil {
			large.err = err.Error()
			return
		}
		large.bytes = int64(len(base) + len(top))
		layers := []v1.Layer{GzipLayer(tb, base, gzip.DefaultCompression), GzipLayer(tb, top, gzip.DefaultCompression)}
		large.img = LayoutImage(tb, large.dir, v1.Config{Entrypoint: []string{"/usr/local/bin/start.sh"}}, layers,
			[]string{"/bin/sh -c #(nop) ADD file:0123 in / ", "COPY start.sh /usr/local/bin/ # buildkit"})
	})
	if large.err != "" {
		tb.Skip(large.err)
	}
	return large.img, large.bytes
}

// RemoveLargeImage deletes the directories LargeImage and MixedImage wrote.
func RemoveLargeImage() {
	removeMixed()
	if large.dir != "" {
		os.RemoveAll(large.dir)
	}
}
