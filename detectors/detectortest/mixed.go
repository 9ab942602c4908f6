package detectortest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Mixed images for benchmarks, built once per shape and process by
// MixedImage and removed by RemoveLargeImage.
var mixed struct {
	mu   sync.Mutex
	dirs []string
	imgs map[string]mixedImage
}

type mixedImage struct {
	img   v1.Image
	bytes int64
}

var mixedWords = strings.Fields("the of and to in is for on with as by at from config server user file path data value " +
	"install package library version update error warning request response module function return string")

// mixedFiles returns about size bytes of files for layer i, drawn from a
// PRNG seeded with i: a third text (words and lines), a third random bytes
// (incompressible, like compressed or encrypted data), a third repetitive
// (like zero-padded binaries), each file 4 KiB to 1 MiB.
func mixedFiles(i, size int) []File {
	r := rand.New(rand.NewPCG(uint64(i), 17))
	var files []File
	for n, total := 0, 0; total < size; n++ {
		m := min(4<<10+r.IntN(1<<20), size-total+1)
		var b []byte
		switch n % 3 {
		case 0:
			var sb strings.Builder
			for sb.Len() < m {
				sb.WriteString(mixedWords[r.IntN(len(mixedWords))])
				if r.IntN(12) == 0 {
					sb.WriteByte('\n')
				} else {
					sb.WriteByte(' ')
				}
			}
			b = []byte(sb.String())
		case 1:
			b = make([]byte, m)
			for k := 0; k+8 <= m; k += 8 {
				v := r.Uint64()
				for j := range 8 {
					b[k+j] = byte(v >> (8 * j))
				}
			}
		default:
			pat := fmt.Appendf(nil, "block %d of layer %d\x00\x00\x00", n, i)
			b = bytes.Repeat(pat, m/len(pat)+1)[:m]
		}
		name := fmt.Sprintf("srv/layer%d/d%d/f%d", i, n%7, n)
		if n%5 == 0 {
			files = append(files, Exec(name, string(b)))
		} else {
			files = append(files, Text(name, string(b)))
		}
		total += m
	}
	return files
}

// MixedImage returns an OCI-layout image of layers layers of about
// layerBytes bytes of mixed files each (see mixedFiles), or, with squash,
// the same files in a single layer, and the uncompressed bytes of its
// layers. Layers are gzip-ed at the default level, like a builder's.
func MixedImage(tb testing.TB, layers, layerBytes int, squash bool) (v1.Image, int64) {
	tb.Helper()
	key := fmt.Sprint(layers, layerBytes, squash)
	mixed.mu.Lock()
	defer mixed.mu.Unlock()
	if m, ok := mixed.imgs[key]; ok {
		return m.img, m.bytes
	}
	var groups [][]File
	for i := range layers {
		fs := mixedFiles(i, layerBytes)
		if squash && i > 0 {
			groups[0] = append(groups[0], fs...)
		} else {
			groups = append(groups, fs)
		}
	}
	var ls []v1.Layer
	var createdBy []string
	var total int64
	for i, fs := range groups {
		t, err := Tar(fs...)
		if err != nil {
			tb.Fatalf("build tar: %v", err)
		}
		total += int64(len(t))
		ls = append(ls, GzipLayer(tb, t, gzip.DefaultCompression))
		createdBy = append(createdBy, fmt.Sprintf("COPY layer%d /srv/ # buildkit", i))
	}
	dir, err := os.MkdirTemp("", "strata-bench-mixed-")
	if err != nil {
		tb.Fatal(err)
	}
	mixed.dirs = append(mixed.dirs, dir)
	img := LayoutImage(tb, dir, v1.Config{}, ls, createdBy)
	if mixed.imgs == nil {
		mixed.imgs = map[string]mixedImage{}
	}
	mixed.imgs[key] = mixedImage{img, total}
	return img, total
}

func removeMixed() {
	mixed.mu.Lock()
	defer mixed.mu.Unlock()
	for _, d := range mixed.dirs {
		os.RemoveAll(d)
	}
	mixed.dirs, mixed.imgs = nil, nil
}
