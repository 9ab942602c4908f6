package detectors

import (
	"bytes"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// A layer stream read past its end keeps answering io.EOF. The walker reads
// it again after the tar reader saw the end (verify drains the trailer); a
// stale offset into a released chunk once panicked there (found by
// FuzzWalkLayer, testdata/fuzz/FuzzWalkLayer/4c6dc9f24cdd673e).
func TestLayerStreamReadAfterEOF(t *testing.T) {
	for _, size := range []int{0, 1, 512, readAheadChunk, readAheadChunk + 7} {
		data := bytes.Repeat([]byte{'x'}, size)
		s, err := openLayer(static.NewLayer(data, types.OCIUncompressedLayer), 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(s)
		if err != nil || len(got) != size {
			t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
		}
		for i := 0; i < 3; i++ {
			if n, err := s.Read(make([]byte, 16)); n != 0 || err != io.EOF {
				t.Fatalf("size %d: read %d after the end: (%d, %v), want (0, EOF)", size, i, n, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
