package plot

import (
	"errors"
	"fmt"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/strata-sec/strata/internal/stats"
)

// Bars is the input of GroupedBars: one group of bars per x category, one
// bar per series in each group.
type Bars struct {
	Title  string
	XLabel string
	YLabel string
	// Groups are the x categories, drawn left to right.
	Groups []string
	// Series are drawn left to right within each group and listed in the
	// legend in this order.
	Series []Series
}

// Series is one bar per group: Rates[i] belongs to Groups[i].
type Series struct {
	Name  string
	Rates []stats.Rate
}

func (b Bars) check() error {
	if len(b.Groups) == 0 {
		return errors.New("plot: bar chart has no groups")
	}
	if len(b.Series) == 0 {
		return errors.New("plot: bar chart has no series")
	}
	for _, s := range b.Series {
		if len(s.Rates) != len(b.Groups) {
			return fmt.Errorf("plot: series %q has %d rates for %d groups", s.Name, len(s.Rates), len(b.Groups))
		}
		for i, r := range s.Rates {
			if err := checkRate(r); err != nil {
				return fmt.Errorf("plot: series %q, group %q: %w", s.Name, b.Groups[i], err)
			}
		}
	}
	return nil
}

func checkRate(r stats.Rate) error {
	if r.N < 0 || r.K < 0 || r.K > r.N {
		return fmt.Errorf("rate %d/%d is not a proportion", r.K, r.N)
	}
	if r.N > 0 && !(0 <= r.Lo && r.Lo <= r.P && r.P <= r.Hi && r.Hi <= 1) {
		return fmt.Errorf("rate %v: need 0 <= lo <= p <= hi <= 1", r)
	}
	return nil
}

// groupWidth is the share of the space between two x categories the bars of
// a group take; the rest separates the groups.
const groupWidth = 0.8

// GroupedBars draws rates as grouped vertical bars on a 0-100% axis, each
// bar with its confidence interval as an error bar: one group per x category,
// one colour per series, a legend under the title. X labels are rotated when
// they would not fit under their group. A rate with N = 0 gets no bar but an
// "n/a" mark at the baseline.
func GroupedBars(b Bars) (*Figure, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	perGroup := max(vg.Inch*6/10, vg.Length(len(b.Series))*vg.Points(13))
	f := &Figure{
		Width:  max(6*vg.Inch, vg.Inch*3/2+vg.Length(len(b.Groups))*perGroup),
		Height: 5 * vg.Inch,
	}
	f.draw = func(c draw.Canvas) {
		c = drawTitle(c, b.Title)
		entries := make([]legendEntry, len(b.Series))
		for i, s := range b.Series {
			entries[i] = legendEntry{name: s.Name, color: seriesColor(i)}
		}
		c = drawLegend(c, entries)

		p := newPlot()
		p.X.Label.Text = b.XLabel
		p.Y.Label.Text = b.YLabel
		p.NominalX(b.Groups...)
		p.Y.Padding = 0 // NominalX pads for a label half as wide as the first; x = -0.5 already leaves room
		p.X.Min, p.X.Max = -0.5, float64(len(b.Groups))-0.5
		// A little headroom so the cap of a 100% error bar is not clipped.
		p.Y.Min, p.Y.Max = 0, 1.03
		p.Y.Tick.Marker = percentTicks()
		grid := plotter.NewGrid()
		grid.Vertical.Color = nil
		grid.Horizontal.Color = gridColor
		p.Add(grid, &barsPlotter{bars: b})

		// Rotate when the widest label is wider than the space of a group.
		widest := vg.Length(0)
		for _, g := range b.Groups {
			widest = max(widest, p.X.Tick.Label.Width(g))
		}
		groupSpace := (c.Max.X - c.Min.X - vg.Inch) / vg.Length(len(b.Groups))
		left := vg.Length(0)
		if widest > 0.95*groupSpace {
			rotateXTicks(p)
			// The first label must not run off the left edge: it has the y
			// axis (about 50 points) and half a group to its left.
			left = max(0, rotatedReach(p, b.Groups[0])-vg.Points(50)-groupSpace/2)
		}
		p.Draw(draw.Crop(c, left, -vg.Points(12), 0, 0))
	}
	return f, nil
}

// barsPlotter draws the bars and error bars in data coordinates: group i
// spans [i-groupWidth/2, i+groupWidth/2].
type barsPlotter struct {
	bars Bars
}

func (bp *barsPlotter) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(bp.bars.Series)
	w := groupWidth / float64(n)
	outline := draw.LineStyle{Color: inkColor, Width: vg.Points(0.5)}
	errStyle := draw.LineStyle{Color: inkColor, Width: vg.Points(1)}
	na := textStyle(7)
	na.Color = inkColor
	na.YAlign = draw.YBottom
	for g := range bp.bars.Groups {
		for s, series := range bp.bars.Series {
			r := series.Rates[g]
			x0 := trX(float64(g) - groupWidth/2 + float64(s)*w)
			x1 := trX(float64(g) - groupWidth/2 + float64(s+1)*w)
			xm := (x0 + x1) / 2
			y0 := trY(0)
			if !r.Defined() {
				c.FillText(na, vg.Point{X: xm, Y: y0 + vg.Points(2)}, "n/a")
				continue
			}
			pad := (x1 - x0) * 0.06
			top := trY(r.P)
			// A 0% bar keeps a sliver of its colour, so one can tell whose
			// it is from the legend.
			top = max(top, y0+vg.Points(2))
			poly := rect(x0+pad, y0, x1-pad, top)
			c.FillPolygon(seriesColor(s), c.ClipPolygonY(poly))
			c.StrokeLines(outline, c.ClipLinesY(append(poly, poly[0]))...)
			lo, hi := trY(r.Lo), trY(r.Hi)
			capW := (x1 - x0) * 0.22
			c.StrokeLine2(errStyle, xm, lo, xm, hi)
			c.StrokeLine2(errStyle, xm-capW, lo, xm+capW, lo)
			c.StrokeLine2(errStyle, xm-capW, hi, xm+capW, hi)
		}
	}
}

func (bp *barsPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(bp.bars.Groups)) - 0.5, 0, 1
}
