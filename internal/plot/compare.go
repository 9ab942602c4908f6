package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
)

// DiffPNG decodes two PNG images and describes how their pixels differ: ""
// when they have the same size and every pixel is equal, whatever the bytes
// of the encoding (which may change between Go releases). Golden tests of
// figures compare PNGs with it.
func DiffPNG(got, want []byte) (string, error) {
	ig, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		return "", fmt.Errorf("decode got: %w", err)
	}
	iw, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		return "", fmt.Errorf("decode want: %w", err)
	}
	if ig.Bounds() != iw.Bounds() {
		return fmt.Sprintf("size %v, want %v", ig.Bounds().Size(), iw.Bounds().Size()), nil
	}
	n := 0
	var first image.Point
	r := ig.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := ig.At(x, y).RGBA()
			r2, g2, b2, a2 := iw.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				if n == 0 {
					first = image.Pt(x, y)
				}
				n++
			}
		}
	}
	if n > 0 {
		return fmt.Sprintf("%d of %d pixels differ, the first at %v", n, r.Dx()*r.Dy(), first), nil
	}
	return "", nil
}
