package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/strata-sec/strata/internal/layers/layercache"

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

// manyFilesImage is an image of one layer shaped like a distribution's
// tree: n small files (1-8 KiB) in n/50 directories, and n/20 symbolic
// links.
func manyFilesImage(b *testing.B, n int) v1.Image {
	b.Helper()
	var files []dt.File
	for i := range n {
		files = append(files, dt.Text(fmt.Sprintf("usr/share/d%d/f%d", i%(n/50), i), strings.Repeat("x", 1024+(i*37)%7168)))
		if i%20 == 0 {
			files = append(files, dt.Symlink(fmt.Sprintf("usr/lib/l%d", i), fmt.Sprintf("../share/d%d/f%d", i%(n/50), i)))
		}
	}
	img, err := mutate.AppendLayers(empty.Image, dt.Layer(b, files...))
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkLayerStoreRecycle: the cold extraction of a tree of 20,000
// small files right after another such tree was removed. On ext4 without
// a journal, inode allocation skips the inodes freed in the last minute
// or more, one table lookup each ("after-delete": the layer removed with
// os.RemoveAll, as before the store had an inode pool); the store's
// eviction moves regular files into its pool instead, and extraction
// reuses them ("after-evict"). Compare the two ns/op; on a filesystem
// without that search (tmpfs, ext4 with a journal) they are about equal.
func BenchmarkLayerStoreRecycle(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("extraction writes overlay whiteouts (root)")
	}
	lim := rootfsLimits{maxBytes: DefaultMaxRootfsBytes, maxFiles: DefaultMaxRootfsFiles}
	imgs := []v1.Image{manyFilesImage(b, 20_000), manyFilesImage(b, 20_001)}
	extract := func(b *testing.B, s *LayerStore, img v1.Image) {
		_, _, release, err := s.lowerDirs(context.Background(), img, lim)
		if err != nil {
			b.Fatal(err)
		}
		release()
	}
	b.Run("after-delete", func(b *testing.B) {
		for i := range b.N {
			b.StopTimer()
			dir := b.TempDir()
			prev := NewLayerStore(filepath.Join(dir, "prev"), DefaultLayerStoreBytes)
			extract(b, prev, imgs[i%2])
			os.RemoveAll(prev.dir)
			s := NewLayerStore(filepath.Join(dir, "next"), DefaultLayerStoreBytes)
			b.StartTimer()
			extract(b, s, imgs[(i+1)%2])
		}
	})
	b.Run("after-evict", func(b *testing.B) {
		s := NewLayerStore(b.TempDir(), DefaultLayerStoreBytes)
		for i := range b.N {
			b.StopTimer()
			extract(b, s, imgs[i%2])
			s.Purge()
			// A fresh walk cache, as in after-delete: only the layer
			// directories differ.
			s.walks = layercache.New(layercache.Dir(b.TempDir()))
			b.StartTimer()
			extract(b, s, imgs[(i+1)%2])
			b.StopTimer()
			s.Purge()
			b.StartTimer()
		}
	})
}
