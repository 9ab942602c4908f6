package layers

import (
	"bytes"
	"context"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// A layer stream read past its end keeps answering io.EOF. The walker reads
// it again after the tar reader saw the end (verify drains the trailer); a
// stale offset into a released chunk once panicked there (found by
// FuzzWalkLayer, testdata/fuzz/FuzzWalkLayer/4c6dc9f24cdd673e).
func TestLayerStreamReadAfterEOF(t *testing.T) {
	for _, size := range []int{0, 1, 512, readAheadChunk, readAheadChunk + 7} {
		data := bytes.Repeat([]byte{'x'}, size)
		s, err := openLayer(static.NewLayer(data, types.OCIUncompressedLayer), 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(s)
		if err != nil || len(got) != size {
			t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
		}
		for i := 0; i < 3; i++ {
			if n, err := s.Read(make([]byte, 16)); n != 0 || err != io.EOF {
				t.Fatalf("size %d: read %d after the end: (%d, %v), want (0, EOF)", size, i, n, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLayoutLayersAreReadCompressed pins blobBacked to go-containerregistry's
// type for layout (and registry) layers: if it is renamed, the walker falls
// back to the slower Uncompressed() and this test says so.
func TestLayoutLayersAreReadCompressed(t *testing.T) {
	l := dt.GzipLayer(t, must(dt.Tar(dt.Text("a", "a"))), 6)
	img := dt.LayoutImage(t, t.TempDir(), v1.Config{}, []v1.Layer{l}, []string{"ADD a /"})
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if !blobBacked(ls[0]) {
		t.Errorf("layout layer %T not recognised as blob-backed", ls[0])
	}
	if blobBacked(dt.Layer(t, dt.Text("a", "a"))) {
		t.Errorf("in-memory tarball layer taken as blob-backed")
	}
	res, err := Walk(context.Background(), img, nil)
	if err != nil || len(res.Files) != 1 {
		t.Errorf("walk of layout image: %v, %d files", err, len(res.Files))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestWalkCacheKey pins the walk options' part of a layer cache key (see
// layercache.TestCacheKeyLayout): changing it orphans every cached record.
// The file limit's default went from 32 MiB to none, which changed it: a
// record of a file cut at 32 MiB never stands for the whole file.
func TestWalkCacheKey(t *testing.T) {
	want := "\x00max-file-bytes=0\x00max-entries=1048576\x00max-path-bytes=4096\x00max-path-depth=256"
	if got := defaultWalkOptions().cacheKey(); got != want {
		t.Errorf("walk key %q, want %q", got, want)
	}
	// Image budgets are not in the key: replay checks bytes with fits,
	// entries as it applies them, time before each layer.
	for name, opt := range map[string]WalkOption{
		"total bytes":   WithMaxTotalBytes(1),
		"image entries": WithMaxImageEntries(1),
		"wall time":     WithMaxWallTime(1),
	} {
		o := defaultWalkOptions()
		opt(&o)
		if o.cacheKey() != want {
			t.Errorf("%s budget changed the key", name)
		}
	}
	o := defaultWalkOptions()
	WithMaxFileBytes(1 << 20)(&o)
	if o.cacheKey() == want {
		t.Errorf("file limit did not change the key")
	}
}
