package sandbox

import (
	"context"
	"testing"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

// BenchmarkLayerStoreCold is the behaviour stage's first-time cost for an
// image (dt.LargeImage, about 256 MB of a real library tree): writing its
// layers into an empty layer store, with the walker's floor on the same
// image (decompression and tar framing alone) as the reference measured in
// the same run. cold/floor is what extraction costs over reading the
// layers once; it is paid once per layer per machine, since later images
// reuse the stored layers (warm).
func BenchmarkLayerStoreCold(b *testing.B) {
	img, n := dt.LargeImage(b)
	lim := rootfsLimits{maxBytes: DefaultMaxRootfsBytes, maxFiles: DefaultMaxRootfsFiles}
	b.Run("floor", func(b *testing.B) {
		b.SetBytes(n)
		for range b.N {
			if _, err := layers.Walk(context.Background(), img, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(n)
		for range b.N {
			b.StopTimer()
			s := NewLayerStore(b.TempDir(), DefaultLayerStoreBytes)
			b.StartTimer()
			_, _, release, err := s.lowerDirs(context.Background(), img, lim)
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
	b.Run("warm", func(b *testing.B) {
		s := NewLayerStore(b.TempDir(), DefaultLayerStoreBytes)
		_, _, release, err := s.lowerDirs(context.Background(), img, lim)
		if err != nil {
			b.Fatal(err)
		}
		release()
		b.SetBytes(n)
		b.ResetTimer()
		for range b.N {
			_, _, release, err := s.lowerDirs(context.Background(), img, lim)
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
}
