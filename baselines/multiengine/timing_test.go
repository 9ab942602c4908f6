package multiengine_test

import (
	"archive/tar"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/strata-sec/strata/baselines/multiengine"
)

// TestColdLayerTiming measures a cold and a cached scan of one large layer
// made from host directories, read back from an OCI layout as the
// experiments do. It runs only when STRATA_MULTIENGINE_TIMING names the
// directories, e.g. STRATA_MULTIENGINE_TIMING="/usr/bin /usr/libexec"
// (about 300 MB on the development machine).
func TestColdLayerTiming(t *testing.T) {
	dirs := strings.Fields(os.Getenv("STRATA_MULTIENGINE_TIMING"))
	if len(dirs) == 0 {
		t.Skip("set STRATA_MULTIENGINE_TIMING to host directories to time a cold layer scan")
	}
	needEngines(t)
	tmp := t.TempDir()
	tarPath := filepath.Join(tmp, "layer.tar")
	writeTar(t, tarPath, dirs)
	l, err := tarball.LayerFromFile(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	img := must(mutate.AppendLayers(empty.Image, l))
	lp := must(layout.Write(filepath.Join(tmp, "oci"), empty.Index))
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	os.Remove(tarPath)
	idx := must(lp.ImageIndex())
	m := must(idx.IndexManifest())
	img = must(idx.Image(m.Manifests[0].Digest))

	f := newFixture(t)
	cache := filepath.Join(tmp, "cache")
	d := newDetector(t, learn(t, f), multiengine.WithTempDir(tmp), multiengine.WithCacheDir(cache))
	scan := func() (time.Duration, map[string]string) {
		start := time.Now()
		v, err := d.Scan(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		return time.Since(start), v.Info
	}
	cold, info := scan()
	warm, _ := scan()
	size := must(must(img.Layers())[0].Size())
	t.Logf("layer: %s bytes written for the engines (%d compressed); cold scan %v, cached scan %v; decision info: fired=%q not_scanned=%s",
		info["bytes_scanned"], size, cold.Round(time.Millisecond), warm.Round(time.Microsecond), info["engines_fired"], info["not_scanned"])
	if s := d.Stats(); s.LayersScanned != 1 || s.MemoryHits != 1 {
		t.Errorf("cold then cached scan: %+v, want one layer scanned and one replayed", s)
	}
}

func writeTar(t *testing.T, out string, dirs []string) {
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return nil
			}
			info, err := e.Info()
			if err != nil {
				return nil
			}
			src, err := os.Open(p)
			if err != nil {
				return nil
			}
			defer src.Close()
			hdr := &tar.Header{Name: strings.TrimPrefix(p, "/"), Typeflag: tar.TypeReg, Mode: int64(info.Mode().Perm()), Size: info.Size(), ModTime: info.ModTime()}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
