package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// TestLayerStoreRecyclesInodes: evicting a layer moves its single-link
// regular files into the store's pool, emptied, and touches nothing a link
// of the layer points at; the next extraction takes them, and the files it
// writes hold its own content.
func TestLayerStoreRecyclesInodes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("extraction writes overlay whiteouts (root)")
	}
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("host file"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim := rootfsLimits{maxBytes: 1 << 20, maxFiles: 100}
	s := NewLayerStore(t.TempDir(), 1<<30)
	get := func(l v1.Layer) string {
		t.Helper()
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		key := layerStoreVersion + "-" + d.Hex
		_, release, err := s.acquire(ctx, key, d, func() (v1.Layer, error) { return l, nil }, lim)
		if err != nil {
			t.Fatal(err)
		}
		release()
		return key
	}
	first := get(dt.Layer(t,
		dt.Text("a/one", "one"),
		dt.Exec("a/two", "two"),
		dt.Hardlink("a/one-again", "a/one"),
		dt.Symlink("a/out", outside),
		dt.Symlink("a/rel", "two"),
	))
	s.Purge()
	if _, err := os.Stat(filepath.Join(s.dir, first)); !os.IsNotExist(err) {
		t.Fatalf("evicted layer still there: %v", err)
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "host file" {
		t.Fatalf("the file a layer's link named was changed: %q, %v", b, err)
	}
	// a/two, meta.json and a/one's inode: a/one itself has two links and
	// is not recycled, but once it is gone a/one-again has one; the
	// symbolic links are not files.
	pooled := pooledFiles(t, s)
	if len(pooled) != 3 {
		t.Fatalf("pool holds %d files, want 3 (a/two, meta.json, a/one-again)", len(pooled))
	}
	for _, fi := range pooled {
		if fi.Size() != 0 {
			t.Errorf("pooled %s holds %d bytes, want 0", fi.Name(), fi.Size())
		}
	}
	second := get(dt.Layer(t, dt.Exec("b/x", "new x"), dt.Text("b/y", "new y"), dt.Text("b/z", "new z"), dt.Text("b/w", "new w")))
	if n := len(pooledFiles(t, s)); n != 0 {
		t.Errorf("pool holds %d files after an extraction of four, want 0", n)
	}
	for p, want := range map[string]string{"b/x": "new x", "b/y": "new y", "b/z": "new z", "b/w": "new w"} {
		if b, err := os.ReadFile(filepath.Join(s.dir, second, "root", p)); err != nil || string(b) != want {
			t.Errorf("/%s holds %q (%v), want %q", p, b, err, want)
		}
	}
	if ents, _ := os.ReadDir(s.dir); len(ents) > 0 {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "tmp-") {
				t.Errorf("left behind: %s", e.Name())
			}
		}
	}
}

// TestInodePoolBound: a full pool takes no more files; the rest of a
// removed directory is deleted as before.
func TestInodePoolBound(t *testing.T) {
	dir := t.TempDir()
	pool := newInodePool(filepath.Join(dir, poolDir), 2)
	victim := filepath.Join(dir, "layer")
	for _, p := range []string{"a", "b", "c", "d/e"} {
		os.MkdirAll(filepath.Dir(filepath.Join(victim, p)), 0o755)
		if err := os.WriteFile(filepath.Join(victim, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := pool.removeAll(victim); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); !os.IsNotExist(err) {
		t.Errorf("removed directory still there: %v", err)
	}
	if n := countEntries(pool.dir, 100); n != 2 {
		t.Errorf("pool holds %d files, want its bound 2", n)
	}
}

func pooledFiles(t *testing.T, s *LayerStore) []os.FileInfo {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.dir, poolDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []os.FileInfo
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fi)
	}
	return out
}
