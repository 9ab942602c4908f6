package plot

import (
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sans is the one typeface of every figure: embedded in gonum/plot (through
// go-fonts/liberation), so no system font lookup can change the output.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Font sizes, in points.
const (
	titleSize  = 14
	panelSize  = 12
	labelSize  = 11
	tickSize   = 9.5
	legendSize = 10
	cellSize   = 8.5
)

func textStyle(size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(sans, size),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: gplot.DefaultTextHandler,
	}
}

// newPlot returns a gonum plot with every text in sans.
func newPlot() *gplot.Plot {
	p := gplot.New()
	p.Title.TextStyle.Font = font.From(sans, panelSize)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
	}
	p.Legend.TextStyle.Font = font.From(sans, legendSize)
	return p
}

// xTickAngle is the rotation of x tick labels that do not fit.
const xTickAngle = math.Pi / 6

// rotatedReach is how far left of its tick a rotated x label reaches.
func rotatedReach(p *gplot.Plot, label string) vg.Length {
	sty := p.X.Tick.Label
	return vg.Length(math.Cos(xTickAngle))*sty.Width(label) + vg.Length(math.Sin(xTickAngle))*sty.Height(label)
}

// rotateXTicks turns the x tick labels by 30 degrees, anchored at their end,
// so long category names do not overlap.
func rotateXTicks(p *gplot.Plot) {
	p.X.Tick.Label.Rotation = xTickAngle
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	// gonum sizes the axis for labels aligned at their centre; top-aligned
	// labels reach half a line lower.
	p.X.Label.Padding += p.X.Tick.Label.Height("Xg") / 2
}

// seriesColors is the Okabe-Ito palette (distinguishable with the common
// colour-vision deficiencies), black left out for the error bars. Series
// beyond its length reuse it from the start.
var seriesColors = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0xF0, 0xE4, 0x42, 0xff}, // yellow
}

func seriesColor(i int) color.RGBA { return seriesColors[i%len(seriesColors)] }

// blues is ColorBrewer's sequential "Blues" scheme, light to dark; heat map
// cells interpolate linearly between its stops.
var blues = []color.RGBA{
	{0xf7, 0xfb, 0xff, 0xff}, {0xde, 0xeb, 0xf7, 0xff}, {0xc6, 0xdb, 0xef, 0xff},
	{0x9e, 0xca, 0xe1, 0xff}, {0x6b, 0xae, 0xd6, 0xff}, {0x42, 0x92, 0xc6, 0xff},
	{0x21, 0x71, 0xb5, 0xff}, {0x08, 0x51, 0x9c, 0xff}, {0x08, 0x30, 0x6b, 0xff},
}

// heatColor maps v in [0, 1] (clamped) onto blues.
func heatColor(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	x := v * float64(len(blues)-1)
	i := int(math.Floor(x))
	if i >= len(blues)-1 {
		return blues[len(blues)-1]
	}
	t := x - float64(i)
	lerp := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + t*(float64(b)-float64(a)))) }
	a, b := blues[i], blues[i+1]
	return color.RGBA{lerp(a.R, b.R), lerp(a.G, b.G), lerp(a.B, b.B), 0xff}
}

var (
	noDataColor   = color.RGBA{0xe6, 0xe6, 0xe6, 0xff}
	inkColor      = color.RGBA{0x20, 0x20, 0x20, 0xff}
	inkColorWhite = color.RGBA{0xff, 0xff, 0xff, 0xff}
	gridColor     = color.RGBA{0xd0, 0xd0, 0xd0, 0xff}
)

// percentTicks labels 0..1 as 0%..100% in steps of 20 points.
func percentTicks() gplot.ConstantTicks {
	var ticks []gplot.Tick
	for i := 0; i <= 10; i++ {
		t := gplot.Tick{Value: float64(i) / 10}
		if i%2 == 0 {
			t.Label = percentLabel(i * 10)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func percentLabel(pct int) string { return strconv.Itoa(pct) + "%" }

// rect returns the closed polygon of the rectangle (x0, y0)-(x1, y1).
func rect(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// drawTitle writes title centred at the top of c and returns c without the
// space it took.
func drawTitle(c draw.Canvas, title string) draw.Canvas {
	if title == "" {
		return c
	}
	sty := textStyle(titleSize)
	sty.YAlign = draw.YTop
	c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y - vg.Points(6)}, title)
	return draw.Crop(c, 0, 0, 0, -(sty.Rectangle(title).Size().Y + vg.Points(12)))
}
