package inventory

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/internal/store"
	"github.com/strata-sec/strata/internal/testenv"
)

// BenchmarkInventorySBOM times the two ways an inventory scan gets its
// SBOM, in one run: cold (the helper catalogs the staged layers; the layer
// cache is warm, so this is syft's work, not decompression) and cached
// (SBOMKey plus an SBOMCache read), and reports cold/cached. The image is
// layeredImage, or with STRATA_INVENTORY_IMAGES=name the first of those
// store images (STRATA_STORE or the default store), e.g.
// exp3/case-010/pool-env/seed-101.
func BenchmarkInventorySBOM(b *testing.B) {
	img := benchImage(b)
	ctx := context.Background()
	layers, err := OpenLayerCache(filepath.Join(b.TempDir(), "layers"), -1)
	if err != nil {
		b.Fatal(err)
	}
	sboms, err := OpenSBOMCache(filepath.Join(b.TempDir(), "sboms"), -1)
	if err != nil {
		b.Fatal(err)
	}
	cat := NewCataloger(testenv.SBOMHelper(b), 1)
	defer cat.Close()
	// Start the helper, fill the layer cache and the SBOM cache.
	s, err := cat.Catalog(ctx, img, layers)
	if err != nil {
		b.Fatal(err)
	}
	key, err := cat.SBOMKey(img)
	if err != nil {
		b.Fatal(err)
	}
	if err := sboms.Put(key, s); err != nil {
		b.Fatal(err)
	}
	var cold, cached time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := cat.Catalog(ctx, img, layers); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		k, err := cat.SBOMKey(img)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := sboms.Get(k); !ok {
			b.Fatal("SBOM cache miss")
		}
		cold, cached = cold+t1.Sub(t0), cached+time.Since(t1)
	}
	b.ReportMetric(float64(cold.Milliseconds())/float64(b.N), "cold-ms/op")
	b.ReportMetric(float64(cached.Microseconds())/1000/float64(b.N), "cached-ms/op")
	b.ReportMetric(float64(cold)/float64(max(cached, 1)), "cold/cached")
}

func benchImage(b *testing.B) v1.Image {
	name, _, _ := strings.Cut(os.Getenv("STRATA_INVENTORY_IMAGES"), ",")
	if name == "" {
		return layeredImage(b, v1.Config{}, pkgJSON("left-pad", "1.3.0"))
	}
	st, err := store.Open(storeDir(b))
	if err != nil {
		b.Fatalf("open store: %v (set STRATA_STORE)", err)
	}
	e, err := st.Lookup(name)
	if err != nil {
		b.Fatalf("%s is not in the store: %v", name, err)
	}
	img, err := st.Image(e.Descriptor.Digest)
	if err != nil {
		b.Fatal(err)
	}
	return img
}
