package detectors

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// echo is a FileAnalyzer whose result is the file's first bytes; it logs
// every call so a replay can be compared call by call.
type echo struct{ log []string }

func (a *echo) AnalyzeFile(l *LayerInfo, e *Entry, r io.Reader) ([]byte, error) {
	b := make([]byte, 16)
	n, _ := io.ReadFull(r, b)
	a.log = append(a.log, fmt.Sprintf("%d %s %q", l.Index, e.Path, b[:n]))
	return b[:n], nil
}

func (a *echo) ReplayFile(l *LayerInfo, e *Entry, result []byte) error {
	a.log = append(a.log, fmt.Sprintf("%d %s %q", l.Index, e.Path, result))
	return nil
}

func testImage(t *testing.T) v1.Image {
	return dt.Image(t, v1.Config{},
		dt.Run("one", dt.Dir("opt"), dt.Text("opt/a", "aaaaaaaaaaaa"), dt.Text("opt/d/x", "x"), dt.Exec("bin/m", "v1"),
			dt.Symlink("bin/l", "/bin/m"), dt.Hardlink("bin/h", "bin/m"), dt.File{Name: "../up", Body: "u"}, dt.Text("big", strings.Repeat("B", 100))),
		dt.Run("two", dt.Whiteout("opt/a"), dt.Opaque("opt/d"), dt.Exec("bin/m", "v2"), dt.Text("opt/d/y", "y")),
		dt.Run("three", dt.Text("bin", "file over dir"), dt.Text("opt/a", "again")),
	)
}

// comparable strips what legitimately differs between a streamed and a
// replayed walk (LayerInfo.Cached) and flattens version chains.
func comparable(r *Result) (map[string][]Entry, []LayerInfo, []Issue, int64) {
	files := map[string][]Entry{}
	for p, e := range r.Files {
		for _, v := range e.Versions() {
			c := *v
			c.Previous = nil
			files[p] = append(files[p], c)
		}
	}
	layers := append([]LayerInfo(nil), r.Layers...)
	for i := range layers {
		layers[i].Cached = false
	}
	return files, layers, r.Issues, r.Bytes
}

func TestWalkReplayIdentical(t *testing.T) {
	ctx := context.Background()
	img := testImage(t)
	c := NewLayerCache()
	opts := []WalkOption{WithLayerCache(c, "echo/1"), WithMaxFileBytes(10)}
	cold := &echo{}
	r1, err := WalkAnalyzer(ctx, img, cold, opts...)
	if err != nil {
		t.Fatal(err)
	}
	counted, reads := dt.CountReads(img)
	warm := &echo{}
	r2, err := WalkAnalyzer(ctx, counted, warm, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if reads.Total() != 0 {
		t.Errorf("replay opened layers %d times", reads.Total())
	}
	for i, l := range r2.Layers {
		if !l.Cached {
			t.Errorf("layer %d not replayed", i)
		}
	}
	f1, l1, i1, b1 := comparable(r1)
	f2, l2, i2, b2 := comparable(r2)
	if !reflect.DeepEqual(f1, f2) || !reflect.DeepEqual(l1, l2) || !reflect.DeepEqual(i1, i2) || b1 != b2 {
		t.Errorf("replayed result differs:\nfiles %v\n%v\nlayers %+v\n%+v\nissues %+v\n%+v", f1, f2, l1, l2, i1, i2)
	}
	if !reflect.DeepEqual(cold.log, warm.log) {
		t.Errorf("analyzer calls differ:\n%q\n%q", cold.log, warm.log)
	}
	var kinds []IssueKind
	for _, is := range i2 {
		kinds = append(kinds, is.Kind)
	}
	if want := []IssueKind{IssueFileLimit, IssuePathEscape, IssueFileLimit, IssueFileLimit}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("issues %v, want %v (path escape and file limits replayed)", kinds, want)
	}
}

// TestCacheRefusesWrongDiffID: a config that claims another diffID than its
// layer's content never gets a record stored under that claim.
func TestCacheRefusesWrongDiffID(t *testing.T) {
	ctx := context.Background()
	img := testImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[0], cf.RootFS.DiffIDs[1] = cf.RootFS.DiffIDs[1], cf.RootFS.DiffIDs[0]
	liar, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	c := NewLayerCache()
	if _, err := WalkAnalyzer(ctx, liar, &echo{}, WithLayerCache(c, "echo/1")); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Stores != 1 {
		t.Errorf("stores = %d, want 1 (only the honest third layer)", st.Stores)
	}
}

func TestCacheBounds(t *testing.T) {
	c := NewLayerCache(CacheMaxEntries(2), CacheMaxBytes(400))
	for i := range 3 {
		c.put(fmt.Sprint("k", i), make([]byte, 50))
	}
	if _, ok := c.get("k0"); ok {
		t.Errorf("oldest entry not evicted by count")
	}
	c.put("big", make([]byte, 150)) // > maxBytes/4: not kept in memory
	if _, ok := c.get("big"); ok {
		t.Errorf("oversized record kept")
	}
	st := c.Stats()
	if st.Entries != 2 || st.Bytes > 400 || st.Evictions != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestWalkRefusesCacheWithVisitFunc(t *testing.T) {
	visit := func(*LayerInfo, *Entry, io.Reader) error { return nil }
	if _, err := Walk(context.Background(), testImage(t), visit, WithLayerCache(NewLayerCache(), "x")); err == nil {
		t.Errorf("Walk with a VisitFunc accepted a layer cache")
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
