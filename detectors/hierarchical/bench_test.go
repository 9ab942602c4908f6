package hierarchical_test

import (
	"context"
	"os"
	"testing"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// The benchmarks scan dt.LargeImage: a ~256 MiB layer built at run time from
// a directory tree of this machine (see STRATA_BENCH_TREE, STRATA_BENCH_MB),
// gzip-ed into an OCI layout. MB/s are uncompressed layer bytes per second.

func TestMain(m *testing.M) {
	code := m.Run()
	dt.RemoveLargeImage()
	os.Exit(code)
}

// BenchmarkScanCold: no cache, every layer read and analysed.
func BenchmarkScanCold(b *testing.B) {
	benchScan(b, func() *hierarchical.Detector { return hierarchical.New(hierarchical.WithLayerCache(nil)) }, false)
}

// BenchmarkScanColdRecording: cold scan into an empty cache (adds diffID
// verification and recording).
func BenchmarkScanColdRecording(b *testing.B) {
	benchScan(b, func() *hierarchical.Detector { return hierarchical.New() }, false)
}

// BenchmarkScanWarm: every layer replayed from the in-memory cache.
func BenchmarkScanWarm(b *testing.B) {
	d := hierarchical.New()
	benchScan(b, func() *hierarchical.Detector { return d }, true)
}

// BenchmarkScanWarmDisk: every layer replayed from the on-disk cache by a
// fresh detector (a new process's first scan).
func BenchmarkScanWarmDisk(b *testing.B) {
	dir := b.TempDir()
	benchScan(b, func() *hierarchical.Detector { return hierarchical.New(hierarchical.WithCacheDir(dir)) }, true)
}

func benchScan(b *testing.B, detector func() *hierarchical.Detector, warm bool) {
	img, n := dt.LargeImage(b)
	ctx := context.Background()
	if warm {
		if _, err := detector().Scan(ctx, img); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n)
	b.ResetTimer()
	for range b.N {
		d := detector()
		var misses int64
		if warm {
			misses = d.Cache().Stats().Misses
		}
		if _, err := d.Scan(ctx, img); err != nil {
			b.Fatal(err)
		}
		if warm && d.Cache().Stats().Misses != misses {
			b.Fatalf("warm scan missed the cache: %+v", d.Cache().Stats())
		}
	}
}
