package sandbox

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// layerOf returns an uncompressed layer holding one file and its diffID.
func layerOf(t *testing.T, name, body string) (v1.Layer, v1.Hash) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(body))
	tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l, v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

// TestLayerStoreVerifiesDiffID: the store's key is the config's diffID, so a
// layer is stored under it only if its content hashes to it; otherwise the
// run fails and nothing is left that a later image naming that diffID (a
// shared base layer) would be handed.
func TestLayerStoreVerifiesDiffID(t *testing.T) {
	benign, benignID := layerOf(t, "usr/bin/app", "benign")
	hostile, _ := layerOf(t, "usr/bin/app", "hostile")
	tests := []struct {
		name    string
		layer   v1.Layer
		diffID  v1.Hash
		wantErr error
	}{
		{"content matches its diffID", benign, benignID, nil},
		{"content claims another layer's diffID", hostile, benignID, ErrLayerMismatch},
		{"diffID not sha256", benign, v1.Hash{Algorithm: "md5", Hex: benignID.Hex[:32]}, ErrLayerMismatch},
		{"stored blob as written", layoutLayer(t, benign, false), benignID, nil},
		// Same content, so the diffID holds: only the manifest's digest
		// tells that these are not the bytes the image names.
		{"stored blob recompressed", layoutLayer(t, benign, true), benignID, ErrLayerMismatch},
	}
	lim := rootfsLimits{maxBytes: 1 << 20, maxFiles: 10}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewLayerStore(t.TempDir(), 1<<30)
			key := layerStoreVersion + "-" + tt.diffID.Hex
			_, release, err := s.acquire(context.Background(), key, tt.diffID, func() (v1.Layer, error) { return tt.layer, nil }, lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("acquire: %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				defer release()
			}
			_, statErr := os.Stat(filepath.Join(s.dir, key))
			if stored := statErr == nil; stored != (tt.wantErr == nil) {
				t.Errorf("layer stored: %v, want %v", stored, tt.wantErr == nil)
			}
			if tt.wantErr != nil {
				if left, _ := filepath.Glob(filepath.Join(s.dir, "tmp-*")); len(left) > 0 {
					t.Errorf("temporary extraction left behind: %v", left)
				}
				return
			}
			b, err := os.ReadFile(filepath.Join(s.dir, key, "root", "usr/bin/app"))
			if err != nil || string(b) != "benign" {
				t.Errorf("stored file %q, %v; want the layer's content", b, err)
			}
		})
	}
}

// layoutLayer writes l into an OCI layout as a gzip blob and returns it as
// read back (a blob-backed layer, as the scanner's layers are);
// recompress replaces the blob on disk by the same tar gzipped at another
// level.
func layoutLayer(t *testing.T, l v1.Layer, recompress bool) v1.Layer {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := ls[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	if recompress {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
		if _, err := io.Copy(zw, rc); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", digest.Hex), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	back, err := p.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := back.LayerByDigest(digest)
	if err != nil {
		t.Fatal(err)
	}
	return bl
}

// lyingLayer claims a diffID its content does not hash to.
type lyingLayer struct {
	v1.Layer
	diffID v1.Hash
}

func (l lyingLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// TestLowerDirsFails: lowerDirs fails (without panicking, every layer it
// took given back) when a layer lies about its diffID, and asks for a
// materialised root when a layer hard-links a lower layer's file.
func TestLowerDirsFails(t *testing.T) {
	base, baseID := layerOf(t, "usr/bin/real", "payload")
	hostile, _ := layerOf(t, "usr/bin/app", "hostile")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "usr/local/bin/start", Typeflag: tar.TypeLink, Linkname: "usr/bin/real"})
	tw.Close()
	b := buf.Bytes()
	link, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		layers  []v1.Layer
		wantErr error
	}{
		{"layer claims the base's diffID", []v1.Layer{base, lyingLayer{hostile, baseID}}, ErrLayerMismatch},
		{"hard link to a lower layer's file", []v1.Layer{base, link}, errLowerLinks},
		{"plain layers", []v1.Layer{base}, nil},
	}
	lim := rootfsLimits{maxBytes: 1 << 20, maxFiles: 10}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := mutate.AppendLayers(empty.Image, tt.layers...)
			if err != nil {
				t.Fatal(err)
			}
			s := NewLayerStore(t.TempDir(), 1<<30)
			_, lowers, release, err := s.lowerDirs(context.Background(), img, lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("lowerDirs: %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if len(lowers) != len(tt.layers) {
					t.Errorf("%d lower dirs for %d layers", len(lowers), len(tt.layers))
				}
				release()
			}
			for k, n := range s.inUse {
				if n != 0 {
					t.Errorf("layer %s still in use (%d) after lowerDirs returned", k, n)
				}
			}
		})
	}
}

// TestLayerStoreSharedByProcesses: two stores on one directory stand for two
// processes (flock locks of separate opens conflict as across processes).
// One store's eviction must not remove a layer the other has in use, and
// removes what an extraction that died left behind, but not one under way.
func TestLayerStoreSharedByProcesses(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	lim := rootfsLimits{maxBytes: 1 << 20, maxFiles: 10}
	a, b := NewLayerStore(dir, 1), NewLayerStore(dir, 1) // 1 byte: evict all it may
	get := func(s *LayerStore, name, body string) (string, func()) {
		t.Helper()
		l, d := layerOf(t, name, body)
		key := layerStoreVersion + "-" + d.Hex
		_, release, err := s.acquire(ctx, key, d, func() (v1.Layer, error) { return l, nil }, lim)
		if err != nil {
			t.Fatal(err)
		}
		return key, release
	}
	held, releaseHeld := get(a, "usr/bin/a", "held by a")
	free, releaseFree := get(a, "usr/bin/b", "released by a")
	releaseFree()
	under, releaseUnder := get(a, "usr/bin/c", "being extracted")
	// An extraction of key "under" under way (its lock taken), one of a
	// key nobody locks that died.
	for _, k := range []string{under, layerStoreVersion + "-dead"} {
		if err := os.Mkdir(filepath.Join(dir, "tmp-"+k+"-123"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	_, releaseB := get(b, "usr/bin/d", "new in b") // b extracts: evicts
	defer releaseB()
	// Eviction runs in the background.
	a.waitEvictions()
	b.waitEvictions()
	tests := []struct {
		name string
		path string
		want bool
	}{
		{"layer in use by the other store", held, true},
		{"layer nobody uses", free, false},
		{"temporary dir of an extraction under way", "tmp-" + under + "-123", true},
		{"temporary dir of a dead extraction", "tmp-" + layerStoreVersion + "-dead-123", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := os.Stat(filepath.Join(dir, tt.path))
			if got := err == nil; got != tt.want {
				t.Errorf("%s kept: %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	releaseHeld()
	releaseUnder()
}

// TestLowerDirsBudget: the image's byte budget is shared by its layers, so a
// hostile image of many large layers writes at most one budget to disk; a
// layer cut under a small budget is extracted again, whole, for a run with
// a larger one.
func TestLowerDirsBudget(t *testing.T) {
	var ls []v1.Layer
	for _, n := range []string{"a", "b", "c"} {
		l, _ := layerOf(t, "data/"+n, strings.Repeat(n, 100))
		ls = append(ls, l)
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	s := NewLayerStore(t.TempDir(), 1<<30)
	tests := []struct {
		name      string
		maxBytes  int64
		wantBytes int64 // written by the run's layers
		wantLimit bool
	}{
		{"three layers of 100 bytes, budget 150", 150, 100, true},
		{"same layers, budget 1000: the cut layer written again", 1000, 300, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rf, lowers, release, err := s.lowerDirs(context.Background(), img, rootfsLimits{maxBytes: tt.maxBytes, maxFiles: 100})
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			var written int64
			for _, d := range lowers {
				filepath.Walk(d, func(_ string, fi os.FileInfo, err error) error {
					if err == nil && fi.Mode().IsRegular() {
						written += fi.Size()
					}
					return nil
				})
			}
			if written != tt.wantBytes || rf.Bytes != tt.wantBytes || (rf.Limit != "") != tt.wantLimit {
				t.Errorf("written %d, counted %d, limit %q; want %d bytes, limit %v", written, rf.Bytes, rf.Limit, tt.wantBytes, tt.wantLimit)
			}
			if b, err := os.ReadFile(filepath.Join(lowers[len(lowers)-1], "data/a")); err != nil || len(b) != 100 {
				t.Errorf("bottom layer (last lower dir) lacks data/a: %d bytes, %v", len(b), err)
			}
		})
	}
}

// TestExtractLayerEntryBound: directories, links and the parents a path
// implies cost entries too, so a layer of millions of empty directories or
// links cannot fill the host's inodes.
func TestExtractLayerEntryBound(t *testing.T) {
	hdrs := func(n int, mk func(i int) tar.Header) []tar.Header {
		var hs []tar.Header
		for i := range n {
			hs = append(hs, mk(i))
		}
		return hs
	}
	tests := []struct {
		name        string
		entries     []tar.Header
		maxEntries  int
		wantCreated []string // relative paths that must exist
		wantAbsent  []string
	}{
		{"symbolic links", hdrs(10, func(i int) tar.Header {
			return tar.Header{Name: fmt.Sprintf("l%d", i), Typeflag: tar.TypeSymlink, Linkname: "x"}
		}), 4, []string{"l0", "l3"}, []string{"l4", "l9"}},
		{"directories", hdrs(10, func(i int) tar.Header {
			return tar.Header{Name: fmt.Sprintf("d%d/", i), Typeflag: tar.TypeDir, Mode: 0o755}
		}), 4, []string{"d0", "d3"}, []string{"d4", "d9"}},
		{"implied parents", []tar.Header{
			{Name: "a/b/c/d/e/f", Typeflag: tar.TypeReg, Mode: 0o644},
			{Name: "g/h/i/j/k/l", Typeflag: tar.TypeReg, Mode: 0o644},
		}, 4, []string{"a/b/c/d/e/f"}, []string{"g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range tt.entries {
				if err := tw.WriteHeader(&h); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			dir := filepath.Join(t.TempDir(), "root")
			m, err := extractLayer(context.Background(), tar.NewReader(&buf), dir, rootfsLimits{maxBytes: 1 << 20, maxFiles: 100, maxEntries: tt.maxEntries}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Limit, "entry limit") {
				t.Errorf("limit %q, want the entry limit", m.Limit)
			}
			for _, p := range tt.wantCreated {
				if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
					t.Errorf("/%s not created: %v", p, err)
				}
			}
			for _, p := range tt.wantAbsent {
				if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
					t.Errorf("/%s created past the entry bound", p)
				}
			}
		})
	}
}

// TestLowerDirsRepeatedLayer: a layer repeated in one image is mounted once,
// at its topmost place (overlay refuses a lower directory twice: ELOOP), and
// a layer without a diffID is refused.
func TestLowerDirsRepeatedLayer(t *testing.T) {
	a, _ := layerOf(t, "data/a", "a")
	b, _ := layerOf(t, "data/b", "b")
	img, err := mutate.AppendLayers(empty.Image, a, b, a)
	if err != nil {
		t.Fatal(err)
	}
	s := NewLayerStore(t.TempDir(), 1<<30)
	rf, lowers, release, err := s.lowerDirs(context.Background(), img, rootfsLimits{maxBytes: 1000, maxFiles: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if len(lowers) != 2 || rf.Files != 2 {
		t.Fatalf("lowers %v, %d files; want 2 distinct layers, 2 files", lowers, rf.Files)
	}
	if _, err := os.Stat(filepath.Join(lowers[0], "data/a")); err != nil {
		t.Errorf("topmost lower dir is not the repeated layer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(lowers[1], "data/b")); err != nil {
		t.Errorf("second lower dir is not layer b: %v", err)
	}
}

// TestLayerStoreCutLayerStaysLocked: a store that finds a layer cut under
// a smaller budget while another process uses it (so it cannot re-extract
// it) still holds its shared lock when it returns the layer, so no evictor
// can remove it under the mounted overlay once the other process lets go.
func TestLayerStoreCutLayerStaysLocked(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, b := NewLayerStore(dir, 1<<30), NewLayerStore(dir, 1<<30)
	l, d := layerOf(t, "data/big", strings.Repeat("x", 100))
	key := layerStoreVersion + "-" + d.Hex
	layer := func() (v1.Layer, error) { return l, nil }
	ma, releaseA, err := a.acquire(ctx, key, d, layer, rootfsLimits{maxBytes: 10, maxFiles: 10})
	if err != nil || ma.Limit == "" {
		t.Fatalf("a: %v, limit %q; want the layer cut", err, ma.Limit)
	}
	mb, releaseB, err := b.acquire(ctx, key, d, layer, rootfsLimits{maxBytes: 1000, maxFiles: 10})
	if err != nil || mb.Limit == "" {
		t.Fatalf("b: %v, limit %q; want the cut layer as it is (a uses it)", err, mb.Limit)
	}
	releaseA()
	if f := a.tryLockExclusive(key); f != nil {
		f.Close()
		t.Fatal("an evictor could lock the layer b still uses: b lost its shared lock")
	}
	releaseB()
	if f := a.tryLockExclusive(key); f == nil {
		t.Error("nobody uses the layer, yet it cannot be locked")
	} else {
		f.Close()
	}
}

// countingLayer counts the reads of its uncompressed stream, each slowed
// down, so a walk still reading it can be seen.
type countingLayer struct {
	v1.Layer
	reads *atomic.Int64
}

type countingReadCloser struct {
	io.ReadCloser
	reads *atomic.Int64
}

func (c countingReadCloser) Read(p []byte) (int, error) {
	time.Sleep(10 * time.Millisecond)
	c.reads.Add(1)
	return c.ReadCloser.Read(p[:min(len(p), 4096)])
}

func (l countingLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Uncompressed()
	return countingReadCloser{rc, l.reads}, err
}

// TestLowerDirsStopsItsWalk: when lowerDirs gives up early (layer 1
// hard-links a lower layer's file), the attribution walk running beside
// it is stopped and waited for: after it returns nothing reads the image.
func TestLowerDirsStopsItsWalk(t *testing.T) {
	l0 := dt.Layer(t, dt.Text("a", "x"))
	l1 := dt.Layer(t, dt.Hardlink("b", "a"))
	var files []dt.File
	for i := range 50 {
		files = append(files, dt.Text(fmt.Sprintf("big/f%02d", i), strings.Repeat("z", 8192)))
	}
	var reads atomic.Int64
	img, err := mutate.AppendLayers(empty.Image, l0, l1, countingLayer{dt.Layer(t, files...), &reads})
	if err != nil {
		t.Fatal(err)
	}
	s := NewLayerStore(t.TempDir(), DefaultLayerStoreBytes)
	_, _, _, err = s.lowerDirs(context.Background(), img, rootfsLimits{maxBytes: 1 << 30, maxFiles: 1000})
	if !errors.Is(err, errLowerLinks) {
		t.Fatalf("lowerDirs: %v, want errLowerLinks", err)
	}
	at := reads.Load()
	time.Sleep(300 * time.Millisecond)
	if later := reads.Load(); later != at {
		t.Errorf("the slow layer was read %d more times after lowerDirs returned", later-at)
	}
}
