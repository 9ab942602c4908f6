package layers

import (
	"archive/tar"
	"fmt"
	"testing"
)

// TestHideBelowLinear pins the overlay's whiteout work to O(entries): each
// case applies 2N headers of N=50k and asserts on hideWork (the paths
// hideBelow visited), not on wall time. Before the fix the first two cases
// visited N*N paths (2.5e9: minutes).
func TestHideBelowLinear(t *testing.T) {
	const n = 50_000
	file := func(name string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}
	}
	files := func(dir string) []*tar.Header {
		hs := make([]*tar.Header, n)
		for i := range hs {
			hs[i] = file(fmt.Sprintf("%s/f%06d", dir, i))
		}
		return hs
	}
	repeat := func(h *tar.Header) []*tar.Header {
		hs := make([]*tar.Header, n)
		for i := range hs {
			hs[i] = h
		}
		return hs
	}
	tests := []struct {
		name       string
		layers     [][]*tar.Header
		wantHidden int // files of d hidden at the end
	}{
		{name: "N opaque markers over N lower files",
			layers: [][]*tar.Header{files("d"), repeat(file("d/.wh..wh..opq"))}, wantHidden: n},
		{name: "N files over a lower directory of N files",
			layers: [][]*tar.Header{files("d"), repeat(file("d"))}, wantHidden: n},
		{name: "N opaque markers over N files of the same layer",
			layers: [][]*tar.Header{append(files("d"), repeat(file("d/.wh..wh..opq"))...)}, wantHidden: 0},
		{name: "N whiteouts of the directory over N lower files",
			layers: [][]*tar.Header{files("d"), repeat(file(".wh.d"))}, wantHidden: n},
		{name: "N nested opaque markers over lower files",
			layers: [][]*tar.Header{files("a/b/c/d"), append(repeat(file("a/b/c/d/.wh..wh..opq")), repeat(file("a/.wh..wh..opq"))...)}, wantHidden: n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &walker{opts: defaultWalkOptions(), children: map[string]map[string]struct{}{},
				res: &Result{Files: map[string]*Entry{}}}
			total := 0
			for i, hs := range tt.layers {
				li := &LayerInfo{Index: i}
				for _, h := range hs {
					w.apply(li, h)
				}
				total += len(hs)
			}
			if max := 3 * total; w.hideWork > max {
				t.Errorf("hideBelow visited %d paths for %d headers, want at most %d", w.hideWork, total, max)
			}
			hidden := 0
			for _, e := range w.res.Files {
				if e.Type == TypeFile && e.Hidden {
					hidden++
				}
			}
			if hidden != tt.wantHidden {
				t.Errorf("%d files hidden, want %d", hidden, tt.wantHidden)
			}
		})
	}
}
