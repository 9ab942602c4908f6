package layercache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

// echo is a FileAnalyzer whose result is the file's first bytes; it logs
// every call so a replay can be compared call by call.
type echo struct{ log []string }

func (a *echo) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	b := make([]byte, 16)
	n, _ := io.ReadFull(r, b)
	a.log = append(a.log, fmt.Sprintf("%d %s %q", l.Index, e.Path, b[:n]))
	return b[:n], nil
}

func (a *echo) ReplayFile(l *layers.LayerInfo, e *layers.Entry, result []byte) error {
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
// replayed walk (layers.LayerInfo.Cached) and flattens version chains.
func comparable(r *layers.Result) (map[string][]layers.Entry, []layers.LayerInfo, []layers.Issue, int64) {
	files := map[string][]layers.Entry{}
	for p, e := range r.Files {
		for _, v := range e.Versions() {
			c := *v
			c.Previous = nil
			files[p] = append(files[p], c)
		}
	}
	ls := append([]layers.LayerInfo(nil), r.Layers...)
	for i := range ls {
		ls[i].Cached = false
	}
	return files, ls, r.Issues, r.Bytes
}

func TestWalkReplayIdentical(t *testing.T) {
	ctx := context.Background()
	img := testImage(t)
	c := New()
	opts := []layers.WalkOption{layers.WithMaxFileBytes(10)}
	cold := &echo{}
	r1, err := layers.WalkAnalyzer(ctx, img, Wrap(c, "echo/1", cold), opts...)
	if err != nil {
		t.Fatal(err)
	}
	counted, reads := dt.CountReads(img)
	warm := &echo{}
	r2, err := layers.WalkAnalyzer(ctx, counted, Wrap(c, "echo/1", warm), opts...)
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
	var kinds []layers.IssueKind
	for _, is := range i2 {
		kinds = append(kinds, is.Kind)
	}
	if want := []layers.IssueKind{layers.IssueFileLimit, layers.IssuePathEscape, layers.IssueFileLimit, layers.IssueFileLimit}; !reflect.DeepEqual(kinds, want) {
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
	c := New()
	if _, err := layers.WalkAnalyzer(ctx, liar, Wrap(c, "echo/1", &echo{})); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Stores != 1 {
		t.Errorf("stores = %d, want 1 (only the honest third layer)", st.Stores)
	}
}

func TestCacheBounds(t *testing.T) {
	c := New(MaxEntries(2), MaxBytes(400))
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

// TestWrapNilCache: no cache, no decorator (and so no replay).
func TestWrapNilCache(t *testing.T) {
	a := &echo{}
	if got := Wrap(nil, "x", a); got != layers.FileAnalyzer(a) {
		t.Errorf("Wrap(nil) = %T, want the analyzer itself", got)
	}
}

// layerEcho is echo with a layer result: the number of files it saw.
type layerEcho struct {
	echo
	files int
}

func (a *layerEcho) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	a.files++
	return a.echo.AnalyzeFile(l, e, r)
}

func (a *layerEcho) AnalyzeLayer(l *layers.LayerInfo) ([]byte, error) {
	res := fmt.Sprintf("layer %d: %d files", l.Index, a.files)
	a.files = 0
	a.log = append(a.log, res)
	return []byte(res), nil
}

func (a *layerEcho) ReplayLayer(l *layers.LayerInfo, result []byte) error {
	a.log = append(a.log, string(result))
	return nil
}

// TestLayerResultReplayed: a LayerAnalyzer's per-layer result is recorded
// and replayed in order with the file results; a record without one is
// refused (ErrCacheRecord) and dropped.
func TestLayerResultReplayed(t *testing.T) {
	ctx := context.Background()
	img := testImage(t)
	c := New()
	cold := &layerEcho{}
	if _, err := layers.WalkAnalyzer(ctx, img, Wrap(c, "layer-echo/1", cold)); err != nil {
		t.Fatal(err)
	}
	counted, reads := dt.CountReads(img)
	warm := &layerEcho{}
	if _, err := layers.WalkAnalyzer(ctx, counted, Wrap(c, "layer-echo/1", warm)); err != nil {
		t.Fatal(err)
	}
	if reads.Total() != 0 {
		t.Errorf("replay opened layers %d times", reads.Total())
	}
	if !reflect.DeepEqual(cold.log, warm.log) || len(cold.log) == 0 {
		t.Errorf("analyzer calls differ:\n%q\n%q", cold.log, warm.log)
	}
	// Records of a plain FileAnalyzer carry no layer result: a
	// LayerAnalyzer under the same key cannot replay them.
	c2 := New()
	if _, err := layers.WalkAnalyzer(ctx, img, Wrap(c2, "k", &echo{})); err != nil {
		t.Fatal(err)
	}
	_, err := layers.WalkAnalyzer(ctx, img, Wrap(c2, "k", &layerEcho{}))
	if !errors.Is(err, layers.ErrCacheRecord) {
		t.Fatalf("replaying a record without a layer result: %v, want ErrCacheRecord", err)
	}
	if st := c2.Stats(); st.Rejected != 1 {
		t.Errorf("bad record not dropped: %+v", st)
	}
}

// TestConcurrentWalksReadALayerOnce: walks that need the same record wait
// for the walk recording it instead of reading the layer themselves.
func TestConcurrentWalksReadALayerOnce(t *testing.T) {
	ctx := context.Background()
	img := testImage(t)
	counted, reads := dt.CountReads(img)
	c := New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := layers.WalkAnalyzer(ctx, counted, Wrap(c, "echo/1", &echo{})); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, want := reads.Total(), int64(3); n != want {
		t.Errorf("%d layer reads by 8 concurrent walks, want %d (each layer once)", n, want)
	}
}

// TestCacheKeyLayout pins the key layout: keys (and so on-disk records)
// stay valid across releases unless recordFormat is bumped.
func TestCacheKeyLayout(t *testing.T) {
	walkKey := "\x00max-file-bytes=33554432\x00max-entries=1048576\x00max-path-bytes=4096\x00max-path-depth=256"
	got := cacheKey("a/1", walkKey, "sha256:ab")
	want := "strata-layer-record/2\x00analyzer=a/1\x00max-file-bytes=33554432\x00max-entries=1048576\x00max-path-bytes=4096\x00max-path-depth=256\x00diff-id=sha256:ab"
	if got != want {
		t.Errorf("key %q, want %q", got, want)
	}
}
