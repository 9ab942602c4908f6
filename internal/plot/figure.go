package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of PNG output: sharp on screens and in print at the
// figure sizes used here, small enough for a repository.
const DPI = 150

// Figure is a drawing of fixed size that can be rendered as PNG or SVG any
// number of times, always with the same result.
type Figure struct {
	Width, Height vg.Length
	draw          func(c draw.Canvas)
}

// WritePNG renders the figure as a PNG image of Width x Height at DPI on a
// white background.
func (f *Figure) WritePNG(w io.Writer) error {
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(c))
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

// svgFamilies adds fallbacks to the font families gonum/plot names in SVG
// output (it writes the bare family name). Liberation Sans has the metrics of
// Arial and Helvetica, so a viewer without it keeps the layout.
var svgFamilies = []struct{ from, to string }{
	{"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"},
}

// WriteSVG renders the figure as an SVG document of Width x Height. Fonts are
// referenced by name, not embedded (see svgFamilies).
func (f *Figure) WriteSVG(w io.Writer) error {
	c := vgsvg.New(f.Width, f.Height)
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.draw(dc)
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return fmt.Errorf("render svg: %w", err)
	}
	out := b.Bytes()
	for _, r := range svgFamilies {
		out = bytes.ReplaceAll(out, []byte(r.from), []byte(r.to))
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}
