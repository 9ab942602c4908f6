package layers_test

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"runtime"
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

// sumAnalyzer hashes every file: a content analyzer whose work grows with
// the bytes, as a detector's does.
type sumAnalyzer struct{}

func (sumAnalyzer) AnalyzeContent(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

func (a sumAnalyzer) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	return a.AnalyzeContent(l, e, r)
}

func (sumAnalyzer) ReplayFile(*layers.LayerInfo, *layers.Entry, []byte) error { return nil }

// BenchmarkParallelLayers walks generated images of mixed files (text,
// random, repetitive: dt.MixedImage) with layers read ahead on GOMAXPROCS
// goroutines (run with -cpu 1,2): six layers of 20 MB, and the same files
// in one layer. "floor" has no analyzer (nothing is read ahead: the
// single-core floor), "sha256" hashes every file.
func BenchmarkParallelLayers(b *testing.B) {
	for _, shape := range []struct {
		name   string
		squash bool
	}{{"6x20MB", false}, {"1x120MB", true}} {
		for _, an := range []struct {
			name string
			a    layers.FileAnalyzer
		}{{"floor", nil}, {"sha256", sumAnalyzer{}}} {
			b.Run(shape.name+"/"+an.name, func(b *testing.B) {
				img, n := dt.MixedImage(b, 6, 20<<20, shape.squash)
				b.SetBytes(n)
				b.ResetTimer()
				for range b.N {
					if _, err := layers.WalkAnalyzer(context.Background(), img, an.a,
						layers.WithParallelLayers(runtime.GOMAXPROCS(0))); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
