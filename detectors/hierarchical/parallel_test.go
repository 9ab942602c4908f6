package hierarchical_test

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// TestParallelLayersVerdictIdentical: reading layers ahead
// (layers.WithParallelLayers) gives the verdict of a sequential scan, with
// and without a layer cache, on the paper sample's eight layer-presence
// cases and the cache fixtures (hidden files, links, archives).
func TestParallelLayersVerdictIdentical(t *testing.T) {
	imgs := map[string]v1.Image{}
	for name, img := range cacheImages(t) {
		imgs[name] = img
	}
	for bits := range 8 {
		img, _ := sample(t, bits&4 != 0, bits&2 != 0, bits&1 != 0)
		imgs[fmt.Sprintf("paper case %03b", bits)] = img
	}
	ctx := context.Background()
	malicious := 0
	for name, img := range imgs {
		t.Run(name, func(t *testing.T) {
			scan := func(d *hierarchical.Detector) detectors.Verdict {
				t.Helper()
				v, err := d.Scan(ctx, img)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			with := func(n int, c *layercache.Cache) *hierarchical.Detector {
				return hierarchical.New(hierarchical.WithLayerCache(c),
					hierarchical.WithWalkOptions(layers.WithParallelLayers(n)))
			}
			want := scan(with(1, nil))
			if !reflect.DeepEqual(want, scan(hierarchical.New(hierarchical.WithLayerCache(nil)))) {
				t.Fatal("WithParallelLayers(1) differs from the default walk")
			}
			if want.Decision == detectors.Malicious {
				malicious++
			}
			for _, n := range []int{2, 4} {
				if got := scan(with(n, nil)); !reflect.DeepEqual(got, want) {
					t.Errorf("parallel %d, uncached:\n got %+v\nwant %+v", n, got, want)
				}
				d := with(n, layercache.New())
				if got := scan(d); !reflect.DeepEqual(got, want) {
					t.Errorf("parallel %d, cold cache:\n got %+v\nwant %+v", n, got, want)
				}
				if got := scan(d); !reflect.DeepEqual(got, want) {
					t.Errorf("parallel %d, warm cache:\n got %+v\nwant %+v", n, got, want)
				}
			}
		})
	}
	if malicious < 5 {
		t.Errorf("%d of %d images are malicious; the comparison proves little", malicious, len(imgs))
	}
}

// BenchmarkParallelScan is a cold scan (no cache) of generated images of
// mixed files (dt.MixedImage: six layers of 20 MB, or the same files in one
// layer) with layers read ahead on GOMAXPROCS goroutines, as strata scan
// does; run with -cpu 1,2. MB/s are uncompressed layer bytes per second.
func BenchmarkParallelScan(b *testing.B) {
	for _, shape := range []struct {
		name   string
		squash bool
	}{{"6x20MB", false}, {"1x120MB", true}} {
		b.Run(shape.name, func(b *testing.B) {
			img, n := dt.MixedImage(b, 6, 20<<20, shape.squash)
			d := hierarchical.New(hierarchical.WithLayerCache(nil),
				hierarchical.WithWalkOptions(layers.WithParallelLayers(runtime.GOMAXPROCS(0))))
			b.SetBytes(n)
			b.ResetTimer()
			for range b.N {
				if _, err := d.Scan(context.Background(), img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
