package hierarchical_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// cacheImages cover what a replay must reproduce: whiteouts and opaque
// directories hiding evidence, hidden files, links, a path escape, rewrites
// (add then chmod), config-started programs and the per-rule finding cap.
func cacheImages(t *testing.T) map[string]v1.Image {
	full, _ := sample(t, true, true, true)
	minerdOnly, _ := sample(t, false, true, false)
	benign, _ := sample(t, false, false, false)
	hidden := dt.Image(t, v1.Config{Cmd: []string{"/opt/run.sh"}},
		dt.Run("install", dt.Dir("opt"), dt.Exec("opt/run.sh", "#!/bin/sh\nexec /opt/xmrig -o stratum+tcp://pool.supportxmr.com:3333 --donate-level 1\n"),
			dt.Text("opt/.hidden/conf.json", `{"donate-level": 1, "url": "stratum+tcp://xmr.pool.minergate.com:45560"}`),
			dt.Exec("opt/xmrig", elfWith(t, "mining.subscribe", "mining.submit", "XMRig/%s")),
			dt.Symlink("usr/bin/xmrig", "/opt/xmrig"), dt.Hardlink("usr/bin/minerd", "opt/xmrig"),
			dt.File{Name: "../escape", Body: "x"}),
		dt.Run("cleanup", dt.Whiteout("opt/xmrig"), dt.Opaque("opt/.hidden"), dt.Text("opt/.hidden/new", "n")),
		dt.Step{CreatedBy: "COPY app /usr/bin/ # buildkit", Files: []dt.File{dt.Exec("usr/bin/app", "#!/bin/sh\necho hi\n")}},
	)
	tgz := hierarchical.ArchiveGzip(t, hierarchical.ArchiveTar(t,
		hierarchical.ArchiveMember{Name: "xmrig-6.21.0/xmrig", Body: []byte(elfWith(t, "mining.subscribe", "mining.submit", "XMRig/%s")), Mode: 0o755},
		hierarchical.ArchiveMember{Name: "deep.gz", Body: hierarchical.ArchiveNested(t, []byte("#!/bin/sh\nexec ./xmrig\n"), 8), Mode: 0o644}))
	archived := dt.Image(t, v1.Config{}, dt.Step{CreatedBy: "COPY x.tgz /opt/ # buildkit", Files: []dt.File{dt.Text("opt/x.tgz", string(tgz))}})
	return map[string]v1.Image{"paper full": full, "paper minerd": minerdOnly, "paper benign": benign, "hidden and links": hidden, "archive": archived}
}

func TestCacheWarmVerdictIdentical(t *testing.T) {
	ctx := context.Background()
	for name, img := range cacheImages(t) {
		t.Run(name, func(t *testing.T) {
			cold, err := hierarchical.New(hierarchical.WithLayerCache(nil)).Scan(ctx, img)
			if err != nil {
				t.Fatal(err)
			}
			d := hierarchical.New(hierarchical.WithLayerCache(layercache.New()))
			first, err := d.Scan(ctx, img)
			if err != nil {
				t.Fatal(err)
			}
			counted, reads := dt.CountReads(img)
			warm, err := d.Scan(ctx, counted)
			if err != nil {
				t.Fatal(err)
			}
			if n := reads.Total(); n != 0 {
				t.Errorf("warm scan opened layer content %d times", n)
			}
			if st := d.Cache().Stats(); st.Hits == 0 || st.Rejected != 0 {
				t.Errorf("cache stats %+v: want hits, no rejects", st)
			}
			if !reflect.DeepEqual(cold, first) {
				t.Errorf("recording scan differs from uncached scan:\n%+v\n%+v", first, cold)
			}
			if !reflect.DeepEqual(cold, warm) {
				t.Errorf("warm verdict differs from cold:\ncold %+v\nwarm %+v", cold, warm)
			}
			if len(cold.Findings) == 0 && name != "paper benign" {
				t.Errorf("fixture has no findings; the comparison proves little")
			}
		})
	}
}

// TestCacheSharedLayerDifferentStep: the same layer (same diffID) added by a
// different history step must not replay the other image's step-dependent
// findings (exec-added-path is derived after replay, not cached).
func TestCacheSharedLayerDifferentStep(t *testing.T) {
	ctx := context.Background()
	files := []dt.File{dt.Exec("usr/bin/tool", "#!/bin/sh\necho tool\n")}
	byCopy := dt.Image(t, v1.Config{}, dt.Step{CreatedBy: "COPY tool /usr/bin/ # buildkit", Files: files})
	byRun := dt.Image(t, v1.Config{}, dt.Run("make install", files...))
	d := hierarchical.New()
	for _, img := range []v1.Image{byCopy, byRun, byCopy} {
		got, err := d.Scan(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		want, err := hierarchical.New(hierarchical.WithLayerCache(nil)).Scan(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cached %+v, want %+v", got.Findings, want.Findings)
		}
	}
	if st := d.Cache().Stats(); st.Hits < 2 {
		t.Errorf("the shared layer was not replayed: %+v", st)
	}
}

// TestCacheDirUntrusted: a world-writable cache directory is refused, the
// error says what to do, and no verdict is given from it.
func TestCacheDirUntrusted(t *testing.T) {
	img, _ := sample(t, true, true, true)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := hierarchical.New(hierarchical.WithCacheDir(dir)).Scan(context.Background(), img)
	if err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("scan with a world-writable cache directory: %v, want a refusal saying chmod go-w", err)
	}
}

func TestCacheDisk(t *testing.T) {
	ctx := context.Background()
	img, _ := sample(t, true, true, true)
	dir := t.TempDir()
	cold, err := hierarchical.New(hierarchical.WithCacheDir(dir)).Scan(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.rec"))
	if len(files) == 0 {
		t.Fatalf("no records written to %s", dir)
	}

	// A new detector (a new process) replays from disk without reading.
	counted, reads := dt.CountReads(img)
	d := hierarchical.New(hierarchical.WithCacheDir(dir))
	warm, err := d.Scan(ctx, counted)
	if err != nil {
		t.Fatal(err)
	}
	if reads.Total() != 0 || !reflect.DeepEqual(cold, warm) {
		t.Errorf("disk replay: %d reads, equal %v", reads.Total(), reflect.DeepEqual(cold, warm))
	}
	if st := d.Cache().Stats(); st.DiskHits != int64(len(files)) {
		t.Errorf("disk hits = %d, want %d (%+v)", st.DiskHits, len(files), st)
	}

	// Corrupt every record in a different way: each is ignored, the layer is
	// read again, the verdict is unchanged and the file is rewritten.
	corruptions := []func([]byte) []byte{
		func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b }, // checksum
		func(b []byte) []byte { return b[:len(b)/3] },           // truncated
		func(b []byte) []byte { return []byte("garbage") },      // not a record
		func(b []byte) []byte { return nil },                    // empty
	}
	for k, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, corruptions[k%len(corruptions)](b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	counted, reads = dt.CountReads(img)
	d = hierarchical.New(hierarchical.WithCacheDir(dir))
	again, err := d.Scan(ctx, counted)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cold, again) {
		t.Errorf("verdict after corrupt cache differs:\n%+v\n%+v", cold, again)
	}
	if got, want := reads.Total(), int64(len(files)); got != want {
		t.Errorf("layer reads after corruption = %d, want %d", got, want)
	}
	if st := d.Cache().Stats(); st.Rejected != int64(len(files)) || st.DiskHits != 0 {
		t.Errorf("stats after corruption %+v, want %d rejected", st, len(files))
	}
	counted, reads = dt.CountReads(img)
	if _, err := hierarchical.New(hierarchical.WithCacheDir(dir)).Scan(ctx, counted); err != nil || reads.Total() != 0 {
		t.Errorf("records not rewritten after corruption: %d reads, err %v", reads.Total(), err)
	}
}

// TestCacheKeyOptions: options that change per-layer results are part of the
// key, so a scan with other limits never replays another's records.
func TestCacheKeyOptions(t *testing.T) {
	ctx := context.Background()
	img, _ := sample(t, true, true, true)
	c := layercache.New()
	imgLayers, _ := img.Layers()
	variants := [][]hierarchical.Option{
		nil,
		{hierarchical.WithMaxScriptBytes(64)},
		{hierarchical.WithWalkOptions(layers.WithMaxFileBytes(4096))},
		{hierarchical.WithWalkOptions(layers.WithMaxEntries(1000))},
	}
	for k, opts := range variants {
		uncached, err := hierarchical.New(append(opts, hierarchical.WithLayerCache(nil))...).Scan(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		counted, reads := dt.CountReads(img)
		got, err := hierarchical.New(append(opts, hierarchical.WithLayerCache(c))...).Scan(ctx, counted)
		if err != nil {
			t.Fatal(err)
		}
		if reads.Total() != int64(len(imgLayers)) {
			t.Errorf("variant %d: %d layer reads, want %d (a record of another variant was replayed)", k, reads.Total(), len(imgLayers))
		}
		if !reflect.DeepEqual(got, uncached) {
			t.Errorf("variant %d: verdict differs from uncached", k)
		}
	}
	// The total-bytes limit is per image, not per layer: it is not in the
	// key, and a record that would not fit the remaining budget is not
	// replayed.
	limited := []hierarchical.Option{hierarchical.WithWalkOptions(layers.WithMaxTotalBytes(4096))}
	want, err := hierarchical.New(append(limited, hierarchical.WithLayerCache(nil))...).Scan(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hierarchical.New(append(limited, hierarchical.WithLayerCache(c))...).Scan(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("total limit with cache: verdict differs from uncached (%s, %d findings vs %s, %d)",
			got.Decision, len(got.Findings), want.Decision, len(want.Findings))
	}
	if len(findings(got, hierarchical.RuleNotScanned)) == 0 {
		t.Errorf("total limit with cache: no not-scanned finding")
	}
}
