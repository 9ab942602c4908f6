package inventory

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

func debianImage(t *testing.T, app ...dt.File) v1.Image {
	t.Helper()
	return dt.Image(t, v1.Config{},
		dt.Run("/bin/sh -c #(nop) ADD file:base in /", dt.Text("var/lib/dpkg/status", dpkgStatus), dt.Text("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
		dt.Run("RUN npm install", app...),
	)
}

// writeLayout writes img to an OCI layout under t.TempDir and returns the
// layout's path and the image read back from it.
func writeLayout(t *testing.T, img v1.Image) (layout.Path, v1.Image) {
	t.Helper()
	p, err := layout.Write(filepath.Join(t.TempDir(), "oci"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	dg, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Image(dg)
	if err != nil {
		t.Fatal(err)
	}
	return p, got
}

// A layer is cached only when its blob hashes to the digest the manifest
// names and its tar to the diffID the config claims; otherwise the scan
// fails and nothing is kept.
func TestLayerCacheRejectsTamperedLayers(t *testing.T) {
	other := dt.Layer(t, dt.Text("app/node_modules/coa/package.json", pkgJSON("coa", "2.0.4")))
	tests := []struct {
		name    string
		tamper  func(t *testing.T, p layout.Path, img v1.Image) v1.Image
		wantErr error
	}{
		{name: "intact", tamper: func(t *testing.T, p layout.Path, img v1.Image) v1.Image { return img }},
		{
			name: "blob replaced in the store",
			tamper: func(t *testing.T, p layout.Path, img v1.Image) v1.Image {
				ls, err := img.Layers()
				if err != nil {
					t.Fatal(err)
				}
				rc, err := other.Compressed()
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				b, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				replaceBlob(t, p, ls[1], b)
				return img
			},
			wantErr: ErrLayerDigest,
		},
		{
			// Same tar, so the diffID still holds: only the blob's own
			// digest tells.
			name: "blob recompressed in the store",
			tamper: func(t *testing.T, p layout.Path, img v1.Image) v1.Image {
				ls, err := img.Layers()
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
				if err != nil {
					t.Fatal(err)
				}
				zw.Comment = "recompressed"
				if _, err := zw.Write(tarBytes(t, ls[1])); err != nil {
					t.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					t.Fatal(err)
				}
				replaceBlob(t, p, ls[1], buf.Bytes())
				return img
			},
			wantErr: ErrLayerDigest,
		},
		{
			name: "config claims another layer's diffID",
			tamper: func(t *testing.T, p layout.Path, img v1.Image) v1.Image {
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				cf = cf.DeepCopy()
				cf.RootFS.DiffIDs[1], err = other.DiffID()
				if err != nil {
					t.Fatal(err)
				}
				img, err = mutate.ConfigFile(img, cf)
				if err != nil {
					t.Fatal(err)
				}
				return img
			},
			wantErr: ErrLayerDigest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, img := writeLayout(t, debianImage(t, dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0"))))
			img = tt.tamper(t, p, img)
			cache, err := OpenLayerCache(t.TempDir(), -1)
			if err != nil {
				t.Fatal(err)
			}
			s, err := catalog(t, img, cache)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("catalog: err = %v, want %v", err, tt.wantErr)
			}
			entries := cacheEntries(t, cache)
			if tt.wantErr != nil {
				if len(entries) != 1 {
					t.Errorf("cache holds %v, want only the intact base layer", entries)
				}
				return
			}
			if n := len(s.Packages); n != 2 {
				t.Errorf("%d packages, want 2", n)
			}
			if len(entries) != 2 {
				t.Errorf("cache holds %v, want both layers", entries)
			}
		})
	}
}

// Only staging reads a layer (the helper's layers have no content): a cold
// scan reads each blob once, a warm one opens none.
func TestCatalogReadsStagedLayers(t *testing.T) {
	cache, err := OpenLayerCache(t.TempDir(), -1)
	if err != nil {
		t.Fatal(err)
	}
	_, stored := writeLayout(t, debianImage(t, dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0"))))
	tests := []struct {
		name           string
		wantCompressed int64
	}{
		{name: "cold", wantCompressed: 2},
		{name: "warm", wantCompressed: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, reads := dt.CountReads(stored)
			s, err := catalog(t, img, cache)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(s.Packages); n != 2 {
				t.Errorf("%d packages, want 2", n)
			}
			if u, d, c := reads.Uncompressed.Load(), reads.DiffID.Load(), reads.Compressed.Load(); u != 0 || d != 0 || c != tt.wantCompressed {
				t.Errorf("layer reads: %d uncompressed, %d diffID, %d compressed; want 0, 0, %d", u, d, c, tt.wantCompressed)
			}
		})
	}
}

// The cache keeps at most its size bound, dropping the least recently used
// entries first; the entry a scan has just used is dropped last.
func TestLayerCacheEvicts(t *testing.T) {
	// Four layers whose tars are the same size.
	var ls []v1.Layer
	for _, name := range []string{"a", "b", "c", "d"} {
		ls = append(ls, dt.Layer(t, dt.Text("data/"+name, strings.Repeat(name, 10000))))
	}
	size := tarSize(t, ls[0])
	tests := []struct {
		name     string
		maxBytes int64
		uses     []int // layer indexes, one scan each, in order
		want     []int // layers still cached
	}{
		{name: "all fit", maxBytes: 4 * size, uses: []int{0, 1, 2, 3}, want: []int{0, 1, 2, 3}},
		{name: "oldest goes", maxBytes: 2 * size, uses: []int{0, 1, 2}, want: []int{1, 2}},
		{name: "a reused layer is young again", maxBytes: 2 * size, uses: []int{0, 1, 0, 2}, want: []int{0, 2}},
		{name: "bound below one layer keeps nothing", maxBytes: size - 1, uses: []int{0, 1}, want: nil},
		{name: "zero keeps nothing", maxBytes: 0, uses: []int{3}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache, err := OpenLayerCache(t.TempDir(), tt.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			for n, i := range tt.uses {
				scan, err := cache.newScanDir()
				if err != nil {
					t.Fatal(err)
				}
				diffID, err := ls[i].DiffID()
				if err != nil {
					t.Fatal(err)
				}
				if err := scan.link(context.Background(), ls[i], diffID, "layer"); err != nil {
					t.Fatal(err)
				}
				// mtimes order the entries; make each use distinct on
				// file systems with coarse timestamps.
				now := time.Now().Add(time.Duration(n) * time.Second)
				if err := os.Chtimes(filepath.Join(scan.dir, "layer"), now, now); err != nil {
					t.Fatal(err)
				}
				if b, err := os.ReadFile(filepath.Join(scan.dir, "layer")); err != nil || int64(len(b)) != size {
					t.Fatalf("scan reads %d bytes (%v), want %d", len(b), err, size)
				}
				if err := scan.Close(); err != nil {
					t.Fatal(err)
				}
			}
			var want []string
			for _, i := range tt.want {
				want = append(want, entryOf(t, ls[i]))
			}
			sort.Strings(want)
			if got := cacheEntries(t, cache); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("cache holds %v, want %v", got, want)
			}
			if n, err := cache.Size(); err != nil || n > tt.maxBytes {
				t.Errorf("cache size %d (%v), want at most %d", n, err, tt.maxBytes)
			}
		})
	}
}

// Scans that share a layer, run at once, all read it whole; it is cached
// once.
func TestLayerCacheConcurrentScans(t *testing.T) {
	cache, err := OpenLayerCache(t.TempDir(), -1)
	if err != nil {
		t.Fatal(err)
	}
	l := dt.Layer(t, dt.Text("data/shared", strings.Repeat("x", 1<<16)))
	diffID, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	want := tarBytes(t, l)
	const scans = 8
	var wg sync.WaitGroup
	errs := make([]error, scans)
	for i := range scans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scan, err := cache.newScanDir()
			if err != nil {
				errs[i] = err
				return
			}
			defer scan.Close()
			if err := scan.link(context.Background(), l, diffID, "layer"); err != nil {
				errs[i] = err
				return
			}
			b, err := os.ReadFile(filepath.Join(scan.dir, "layer"))
			if err == nil && !bytes.Equal(b, want) {
				err = errors.New("scan read a different tar")
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := cacheEntries(t, cache); len(got) != 1 {
		t.Errorf("cache holds %v, want one entry", got)
	}
}

func replaceBlob(t *testing.T, p layout.Path, l v1.Layer, b []byte) {
	t.Helper()
	dg, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(string(p), "blobs", dg.Algorithm, dg.Hex), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func cacheEntries(t *testing.T, c *LayerCache) []string {
	t.Helper()
	des, err := os.ReadDir(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), entrySuffix) {
			out = append(out, de.Name())
		}
	}
	sort.Strings(out)
	return out
}

func entryOf(t *testing.T, l v1.Layer) string {
	t.Helper()
	dg, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	diffID, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return entryName(dg, diffID)
}

func tarBytes(t *testing.T, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tarSize(t *testing.T, l v1.Layer) int64 { return int64(len(tarBytes(t, l))) }
