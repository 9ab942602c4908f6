package layers_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// contentAnalyzer is a layers.ContentAnalyzer that records, in order, every
// file result that reaches the walk's side (AnalyzeFile or ReplayFile: a
// file read ahead arrives as ReplayFile with AnalyzeContent's result) and
// counts AnalyzeContent calls, so a test knows layers were read ahead.
type contentAnalyzer struct {
	calls   []string
	content atomic.Int64
	// failOn makes the analysis of that path fail; slow delays AnalyzeFile
	// so the read-ahead goroutines run while the walk is busy.
	failOn string
	slow   time.Duration
	// tolerant takes a stream cut inside a file as its end, as the
	// hierarchical detector does, instead of failing.
	tolerant bool
}

var errAnalyze = errors.New("analysis failed")

func (a *contentAnalyzer) analyze(e *layers.Entry, r io.Reader) ([]byte, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil && !(a.tolerant && errors.Is(err, io.ErrUnexpectedEOF)) {
		return nil, err
	}
	if e.Path == a.failOn {
		return nil, errAnalyze
	}
	return fmt.Appendf(nil, "%s %v size=%d read=%d %x", e.Path, e.Mode, e.Size, n, h.Sum(nil)[:6]), nil
}

func (a *contentAnalyzer) record(l *layers.LayerInfo, e *layers.Entry, result []byte) {
	a.calls = append(a.calls, fmt.Sprintf("L%d %s prev=%t: %s", l.Index, e.Path, e.Previous != nil, result))
}

func (a *contentAnalyzer) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	time.Sleep(a.slow)
	b, err := a.analyze(e, r)
	if err == nil {
		a.record(l, e, b)
	}
	return b, err
}

func (a *contentAnalyzer) ReplayFile(l *layers.LayerInfo, e *layers.Entry, result []byte) error {
	a.record(l, e, result)
	return nil
}

func (a *contentAnalyzer) AnalyzeContent(_ *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	a.content.Add(1)
	return a.analyze(e, r)
}

// rawImage builds a blob-backed image (gzip layers read as an OCI layout
// serves them) from one file list per layer; edit may make blob i lie.
func rawImage(t *testing.T, files [][]dt.File, edit func(i int, b *dt.Blob)) v1.Image {
	t.Helper()
	var cf v1.ConfigFile
	blobs := make([]dt.Blob, len(files))
	for i, fs := range files {
		tb, err := dt.Tar(fs...)
		if err != nil {
			t.Fatal(err)
		}
		blobs[i] = dt.Blob{Data: dt.Gzip(t, tb, 6)}
		if edit != nil {
			edit(i, &blobs[i])
		}
		cf.History = append(cf.History, v1.History{CreatedBy: fmt.Sprintf("RUN /bin/sh -c step%d # buildkit", i)})
	}
	return dt.RawImage(t, cf, blobs...)
}

// overlayLayers exercise the overlay across layers: whiteouts, an opaque
// directory, hard and symbolic links, files replaced and re-added, a file
// written over a directory, path escapes.
func overlayLayers() [][]dt.File {
	return [][]dt.File{
		{dt.Dir("etc"), dt.Text("etc/a", "a0"), dt.Text("etc/b", "b0"), dt.Dir("opt/m"), dt.Text("opt/m/x", "x"),
			dt.Exec("bin/tool", strings.Repeat("tool ", 200)), dt.Symlink("bin/sh", "/bin/tool"), dt.Hardlink("bin/hl", "bin/tool")},
		{dt.Whiteout("etc/a"), dt.Text("etc/b", "b1 replaced"), dt.Opaque("opt/m"), dt.Text("opt/m/y", "y"), dt.File{Name: "../escape", Body: "e"}},
		{dt.Text("etc/a", "a2 re-added"), dt.Text("opt", "now a file"), dt.Exec("bin/tool", "tool v2"), dt.Whiteout("bin/sh")},
		{dt.Text("srv/one", strings.Repeat("1", 3000)), dt.Text("srv/two", strings.Repeat("2", 3000)), dt.Hardlink("srv/three", "srv/one")},
		{dt.Text("srv/four", "4"), dt.Whiteout("srv"), dt.Text("srv/five", "5")},
	}
}

func manyLayers(n int) [][]dt.File {
	out := make([][]dt.File, n)
	for i := range out {
		out[i] = []dt.File{dt.Text(fmt.Sprintf("d%d/f", i), strings.Repeat(fmt.Sprint(i), 1000+i)),
			dt.Text("shared", fmt.Sprintf("version %d", i)), dt.Whiteout(fmt.Sprintf("d%d", max(i-2, 0)))}
	}
	return out
}

type walkCase struct {
	name     string
	img      func(t *testing.T) v1.Image
	opts     []layers.WalkOption
	failOn   string
	tolerant bool
}

func walkCases() []walkCase {
	gzipImage := func(files [][]dt.File, edit func(int, *dt.Blob)) func(*testing.T) v1.Image {
		return func(t *testing.T) v1.Image { return rawImage(t, files, edit) }
	}
	tarImage := func(t *testing.T) v1.Image {
		var steps []dt.Step
		for i, fs := range overlayLayers() {
			steps = append(steps, dt.Run(fmt.Sprint("step", i), fs...))
		}
		return dt.Image(t, v1.Config{}, steps...)
	}
	ov := overlayLayers()
	return []walkCase{
		{name: "overlay, uncompressed layers", img: tarImage},
		{name: "overlay, gzip blobs", img: gzipImage(ov, nil)},
		{name: "ten layers", img: gzipImage(manyLayers(10), nil)},
		{name: "file size limit", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxFileBytes(1000)}},
		{name: "image byte budget cut in layer 3", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxTotalBytes(20000)}},
		{name: "image entry budget cut in layer 2", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxImageEntries(15)}},
		// Layers 0-2 have 8+5+4 entries and 7680+5120+4608 bytes.
		{name: "image entry budget met exactly by layer 2", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxImageEntries(17)}},
		{name: "image byte budget met exactly by layer 2", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxTotalBytes(17408)}},
		{name: "layer entry limit", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxEntries(4)}},
		{name: "layer uncompressed limit", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxLayerUncompressedBytes(8000)}},
		{name: "layer blob size limit", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxLayerBytes(300)}},
		{name: "path depth limit", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithMaxPathDepth(1)}},
		{name: "digest mismatch in layer 2", img: gzipImage(ov, func(i int, b *dt.Blob) {
			if i == 2 {
				b.Digest = dt.Hash([]byte("another blob"))
			}
		})},
		{name: "diffID mismatch in layer 3", img: gzipImage(ov, func(i int, b *dt.Blob) {
			if i == 3 {
				b.DiffID = dt.Hash([]byte("another tar"))
			}
		})},
		{name: "truncated blob in layer 1", img: gzipImage(ov, func(i int, b *dt.Blob) {
			if i == 1 {
				b.Data = b.Data[:len(b.Data)/2]
				b.DiffID = dt.Hash(nil)
			}
		})},
		{name: "truncated blob in layer 1, the analyzer keeps what it read", tolerant: true, img: gzipImage(ov, func(i int, b *dt.Blob) {
			if i == 1 {
				b.Data = b.Data[:len(b.Data)/2]
				b.DiffID = dt.Hash(nil)
			}
		})},
		// A plain tar (mislabelled layers exist) cut inside srv/one: the
		// stream ends cleanly, the tar reader does not.
		{name: "plain tar cut inside a file", img: plainCut(ov)},
		{name: "plain tar cut inside a file, the analyzer keeps what it read", tolerant: true, img: plainCut(ov)},
		{name: "layer 3 cut at an entry boundary", img: func(t *testing.T) v1.Image {
			return rawImage(t, ov, func(i int, b *dt.Blob) {
				if i == 3 {
					tb, err := dt.Tar(ov[3]...)
					if err != nil {
						t.Fatal(err)
					}
					tb = tb[:len(tb)-1024] // no end-of-archive marker
					b.Data, b.DiffID = dt.Gzip(t, tb, 6), dt.Hash(tb)
				}
			})
		}},
		{name: "no diffIDs", img: func(t *testing.T) v1.Image {
			var blobs []dt.Blob
			for _, fs := range ov {
				tb, err := dt.Tar(fs...)
				if err != nil {
					t.Fatal(err)
				}
				blobs = append(blobs, dt.Blob{Data: dt.Gzip(t, tb, 6)})
			}
			return dt.RawImageWithoutDiffIDs(t, v1.ConfigFile{}, blobs...)
		}},
		{name: "same layer twice", img: gzipImage([][]dt.File{ov[0], ov[3], ov[0], ov[3]}, nil)},
		{name: "recordings over the memory bound", img: gzipImage(ov, nil), opts: []layers.WalkOption{layers.WithPrereadMaxBytes(300)}},
		{name: "analyzer error in layer 3", img: gzipImage(ov, nil), failOn: "srv/two"},
	}
}

// plainCut is files as uncompressed tar blobs, layer 3 cut 1,000 bytes
// into its first file's content.
func plainCut(files [][]dt.File) func(*testing.T) v1.Image {
	return func(t *testing.T) v1.Image {
		var blobs []dt.Blob
		for i, fs := range files {
			tb, err := dt.Tar(fs...)
			if err != nil {
				t.Fatal(err)
			}
			if i == 3 {
				tb = tb[:512+1000]
			}
			blobs = append(blobs, dt.Blob{Data: tb, DiffID: dt.Hash(tb)})
		}
		return dt.RawImage(t, v1.ConfigFile{}, blobs...)
	}
}

// walkOutcome is everything a walk shows: the Result, the error, the file
// results in the order they reached the analyzer and the cache's files.
type walkOutcome struct {
	res     *layers.Result
	err     string
	calls   []string
	records map[string]string
}

func walkOnce(t *testing.T, img v1.Image, tc walkCase, parallel int, c *layercache.Cache, dir string) (walkOutcome, int64) {
	t.Helper()
	a := &contentAnalyzer{failOn: tc.failOn, tolerant: tc.tolerant, slow: 2 * time.Millisecond}
	opts := append([]layers.WalkOption{layers.WithParallelLayers(parallel)}, tc.opts...)
	res, err := layers.WalkAnalyzer(context.Background(), img, layercache.Wrap(c, "test/1", a), opts...)
	out := walkOutcome{res: res, calls: a.calls, records: map[string]string{}}
	if err != nil {
		out.err = err.Error()
	}
	if dir != "" {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out.records[e.Name()] = string(b)
		}
	}
	return out, a.content.Load()
}

// TestParallelLayersEquivalent: reading layers ahead changes nothing a walk
// shows, uncached, recording into a cache and replaying from it.
func TestParallelLayersEquivalent(t *testing.T) {
	for _, tc := range walkCases() {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.img(t)
			// Each run is a list of walks: uncached, or a cold walk that
			// records into a cache and a warm one that replays from it.
			runs := []struct {
				name string
				walk func(parallel int) ([]walkOutcome, int64)
			}{
				{"uncached", func(p int) ([]walkOutcome, int64) {
					o, n := walkOnce(t, img, tc, p, nil, "")
					return []walkOutcome{o}, n
				}},
				{"cold then warm cache", func(p int) ([]walkOutcome, int64) {
					dir := t.TempDir()
					c := layercache.New(layercache.Dir(dir))
					cold, n := walkOnce(t, img, tc, p, c, dir)
					warm, _ := walkOnce(t, img, tc, p, c, dir)
					return []walkOutcome{cold, warm}, n
				}},
			}
			for _, r := range runs {
				t.Run(r.name, func(t *testing.T) {
					want, _ := r.walk(1)
					for _, p := range []int{2, 4} {
						gotAll, ahead := r.walk(p)
						for k, got := range gotAll {
							compareOutcomes(t, fmt.Sprintf("parallel %d, walk %d", p, k), got, want[k])
						}
						if p == 4 && ahead == 0 && tc.failOn == "" {
							t.Errorf("parallel %d: no layer was read ahead; the comparison proves little", p)
						}
					}
					if len(want[0].calls) == 0 && want[0].err == "" {
						t.Errorf("no file reached the analyzer; the comparison proves little")
					}
				})
			}
		})
	}
}

func compareOutcomes(t *testing.T, what string, got, want walkOutcome) {
	t.Helper()
	if got.err != want.err {
		t.Errorf("%s: error %q, want %q", what, got.err, want.err)
	}
	if !reflect.DeepEqual(got.res, want.res) {
		t.Errorf("%s: Result differs:\n got %s\nwant %s", what, describe(got.res), describe(want.res))
	}
	if !reflect.DeepEqual(got.calls, want.calls) {
		t.Errorf("%s: analyzer calls differ:\n got %q\nwant %q", what, got.calls, want.calls)
	}
	if !reflect.DeepEqual(got.records, want.records) {
		t.Errorf("%s: cache records differ: %d files, want %d", what, len(got.records), len(want.records))
	}
}

func describe(r *layers.Result) string {
	if r == nil {
		return "<nil>"
	}
	var b strings.Builder
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "[L%d entries=%d bytes=%d complete=%t cached=%t added=%d removed=%d] ",
			l.Index, l.Entries, l.Bytes, l.Complete, l.Cached, len(l.Changes.Added), len(l.Changes.Removed))
	}
	for _, is := range r.Issues {
		fmt.Fprintf(&b, "{%s L%d %s} ", is.Kind, is.Layer, is.Path)
	}
	paths := r.Paths()
	sort.Strings(paths)
	fmt.Fprintf(&b, "bytes=%d paths=%v", r.Bytes, paths)
	return b.String()
}

// TestParallelLayersUsesRecordings: layers read ahead are applied from
// their recordings (each file analysed once, by AnalyzeContent), a
// recording over the memory bound is not used (the walk analyses again),
// and the layers the walk streams have their files analysed by the
// workers too: in a parallel walk AnalyzeFile is never called.
func TestParallelLayersUsesRecordings(t *testing.T) {
	img := rawImage(t, overlayLayers(), nil)
	first, files := 0, 0 // regular files in layer 0 and in the others
	for i, fs := range overlayLayers() {
		for _, f := range fs {
			if f.Type == 0 && !strings.Contains(f.Name, ".wh.") && !strings.HasPrefix(f.Name, "..") {
				if i == 0 {
					first++
				} else {
					files++
				}
			}
		}
	}
	tests := []struct {
		name         string
		opts         []layers.WalkOption
		wantAnalyzed int // AnalyzeFile calls
		wantContent  int // AnalyzeContent calls (-1: any; a read gives up at the bound)
	}{
		{name: "recordings used", opts: []layers.WalkOption{layers.WithParallelLayers(8)}, wantAnalyzed: 0, wantContent: first + files},
		{name: "recordings too large", opts: []layers.WalkOption{layers.WithParallelLayers(8), layers.WithPrereadMaxBytes(1)}, wantAnalyzed: 0, wantContent: -1},
		{name: "sequential", opts: nil, wantAnalyzed: first + files, wantContent: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &contentAnalyzer{}
			counting := &countingAnalyzer{contentAnalyzer: a}
			if _, err := layers.WalkAnalyzer(context.Background(), img, counting, tt.opts...); err != nil {
				t.Fatal(err)
			}
			if got := int(counting.analyzed.Load()); got != tt.wantAnalyzed {
				t.Errorf("AnalyzeFile called %d times, want %d (AnalyzeContent %d)", got, tt.wantAnalyzed, a.content.Load())
			}
			if got := int(a.content.Load()); tt.wantContent >= 0 && got != tt.wantContent {
				t.Errorf("AnalyzeContent called %d times, want %d", got, tt.wantContent)
			}
		})
	}
}

// TestParallelLayersSkipsCachedLayers: layers a layer cache holds are not
// read ahead (LayerProber): a warm walk opens no blob and analyses nothing.
func TestParallelLayersSkipsCachedLayers(t *testing.T) {
	img := rawImage(t, manyLayers(6), nil)
	c := layercache.New()
	cold := &contentAnalyzer{}
	if _, err := layers.WalkAnalyzer(context.Background(), img, layercache.Wrap(c, "test/1", cold), layers.WithParallelLayers(4)); err != nil {
		t.Fatal(err)
	}
	counted, reads := dt.CountReads(img)
	warm := &contentAnalyzer{}
	res, err := layers.WalkAnalyzer(context.Background(), counted, layercache.Wrap(c, "test/1", warm), layers.WithParallelLayers(4))
	if err != nil {
		t.Fatal(err)
	}
	if n, m := reads.Total(), warm.content.Load(); n != 0 || m != 0 {
		t.Errorf("warm walk opened %d blobs and analysed %d files ahead, want none", n, m)
	}
	if cold.content.Load() == 0 || !res.Layers[5].Cached {
		t.Errorf("cold walk read nothing ahead (%d) or warm walk replayed nothing", cold.content.Load())
	}
}

type countingAnalyzer struct {
	*contentAnalyzer
	analyzed atomic.Int64
}

func (c *countingAnalyzer) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	c.analyzed.Add(1)
	return c.contentAnalyzer.AnalyzeFile(l, e, r)
}

// blockingAnalyzer blocks AnalyzeContent until the walk's context ends.
type blockingAnalyzer struct {
	contentAnalyzer
	ctx     context.Context
	started chan struct{}
	once    atomic.Bool
}

func (b *blockingAnalyzer) AnalyzeContent(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	if b.once.CompareAndSwap(false, true) {
		close(b.started)
	}
	<-b.ctx.Done()
	return b.contentAnalyzer.AnalyzeContent(l, e, r)
}

func (b *blockingAnalyzer) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	<-b.started // layer 0 waits until a read ahead runs
	return b.contentAnalyzer.AnalyzeFile(l, e, r)
}

// TestParallelLayersCancelNoLeak: cancelling a walk stops the read-ahead
// goroutines; none is left once WalkAnalyzer returns.
func TestParallelLayersCancelNoLeak(t *testing.T) {
	img := rawImage(t, manyLayers(12), nil)
	before := runtime.NumGoroutine()
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		a := &blockingAnalyzer{ctx: ctx, started: make(chan struct{})}
		go func() { <-a.started; cancel() }()
		_, err := layers.WalkAnalyzer(ctx, img, a, layers.WithParallelLayers(4))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("walk error %v, want context.Canceled", err)
		}
		cancel()
	}
	// Walks that end normally leave nothing behind either.
	for range 5 {
		if _, err := layers.WalkAnalyzer(context.Background(), img, &contentAnalyzer{}, layers.WithParallelLayers(3)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the walks, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// slowReadAnalyzer reads content 1 MiB at a time with a pause, and records
// the most bytes one AnalyzeContent call read.
type slowReadAnalyzer struct {
	contentAnalyzer
	mostRead atomic.Int64
}

func (s *slowReadAnalyzer) AnalyzeContent(_ *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		time.Sleep(5 * time.Millisecond)
		m, err := r.Read(buf)
		n += int64(m)
		if n > s.mostRead.Load() {
			s.mostRead.Store(n)
		}
		if err == io.EOF {
			return fmt.Appendf(nil, "%s read=%d", e.Path, n), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// TestParallelStreamedLayerWallTime: the layer the walk streams itself
// (here an image's only layer) stops at the wall-time limit inside a file
// analysed in place, as the sequential walk does, rather than reading the
// file to its end first.
func TestParallelStreamedLayerWallTime(t *testing.T) {
	const size = 64 << 20 // over the size handed to workers: read in place
	img := rawImage(t, [][]dt.File{{dt.Text("big", strings.Repeat("z", size))}}, nil)
	a := &slowReadAnalyzer{}
	res, err := layers.WalkAnalyzer(context.Background(), img, a, layers.WithParallelLayers(2), layers.WithMaxWallTime(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if n := a.mostRead.Load(); n >= size/2 {
		t.Errorf("the walk's own layer: %d of %d bytes read past a 30 ms limit", n, size)
	}
	var kinds []layers.IssueKind
	for _, is := range res.Issues {
		kinds = append(kinds, is.Kind)
	}
	if !slices.Contains(kinds, layers.IssueWallTimeLimit) {
		t.Errorf("issues %v, want %s", kinds, layers.IssueWallTimeLimit)
	}
}

// firstBlocksAnalyzer blocks AnalyzeContent of "a/0000" until release is
// closed and counts the calls.
type firstBlocksAnalyzer struct {
	contentAnalyzer
	release chan struct{}
	calls   atomic.Int64
}

func (f *firstBlocksAnalyzer) AnalyzeContent(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	f.calls.Add(1)
	if e.Path == "a/0000" {
		<-f.release
	}
	return f.contentAnalyzer.AnalyzeContent(l, e, r)
}

// TestParallelPendingFilesBounded: one slow file holds back the collection
// of every file after it; the read stops handing out files at
// FanoutMaxPending instead of keeping a job and a result for each, and
// the walk's outcome is unchanged once the slow file ends.
func TestParallelPendingFilesBounded(t *testing.T) {
	n := 3 * layers.FanoutMaxPending
	files := make([]dt.File, n)
	for i := range files {
		files[i] = dt.Text(fmt.Sprintf("a/%04d", i), fmt.Sprint(i))
	}
	img := rawImage(t, [][]dt.File{files}, nil)
	a := &firstBlocksAnalyzer{release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := layers.WalkAnalyzer(context.Background(), img, a, layers.WithParallelLayers(2))
		done <- err
	}()
	// Let the other worker drain whatever it is handed.
	deadline := time.Now().Add(5 * time.Second)
	last := int64(-1)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		c := a.calls.Load()
		if c == last {
			break
		}
		last = c
	}
	if c := a.calls.Load(); c > int64(layers.FanoutMaxPending)+4 {
		t.Errorf("%d files analysed while the first was still running; want at most about %d", c, layers.FanoutMaxPending)
	}
	close(a.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(a.calls0()); got != n {
		t.Errorf("%d files reached the walk, want %d", got, n)
	}
}

func (f *firstBlocksAnalyzer) calls0() []string { return f.contentAnalyzer.calls }
