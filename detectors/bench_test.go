package detectors_test

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
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
		if _, err := detectors.Walk(context.Background(), img, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWalkReadAll adds a visitor that reads every file to the end.
func BenchmarkWalkReadAll(b *testing.B) {
	img, n := dt.LargeImage(b)
	visit := func(_ *detectors.LayerInfo, _ *detectors.Entry, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	b.SetBytes(n)
	b.ResetTimer()
	for range b.N {
		if _, err := detectors.Walk(context.Background(), img, visit); err != nil {
			b.Fatal(err)
		}
	}
}
