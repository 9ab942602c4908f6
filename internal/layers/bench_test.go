package layers_test

import (
	"context"
	"io"
	"os"
	"testing"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dt.RemoveLargeImage()
	os.Exit(code)
}

// BenchmarkWalkFloor is the walker's floor on dt.LargeImage: decompression,
// tar framing and the filesystem view, no visitor.
func BenchmarkWalkFloor(b *testing.B) {
	img, n := dt.LargeImage(b)
	b.SetBytes(n)
	b.ResetTimer()
	for range b.N {
		if _, err := layers.Walk(context.Background(), img, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkReadAll adds a visitor that reads every file to the end.
func BenchmarkWalkReadAll(b *testing.B) {
	img, n := dt.LargeImage(b)
	visit := func(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	b.SetBytes(n)
	b.ResetTimer()
	for range b.N {
		if _, err := layers.Walk(context.Background(), img, visit); err != nil {
			b.Fatal(err)
		}
	}
}
