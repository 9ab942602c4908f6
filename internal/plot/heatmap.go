package plot

import (
	"errors"
	"fmt"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/strata-sec/strata/internal/stats"
)

// Heat is the input of Heatmap: one or more panels over the same grid of
// rows and columns.
type Heat struct {
	Title  string
	XLabel string
	YLabel string
	// Cols are the x categories, drawn left to right.
	Cols []string
	// Rows are the y categories, drawn top to bottom.
	Rows []string
	// Panels are laid out left to right, top to bottom, two per row when
	// there are more than one.
	Panels []Panel
}

// Panel is one heat map: Cells[r][c] is the rate of Rows[r] and Cols[c].
type Panel struct {
	Title string
	Cells [][]stats.Rate
}

func (h Heat) check() error {
	if len(h.Cols) == 0 || len(h.Rows) == 0 {
		return errors.New("plot: heat map needs at least one row and one column")
	}
	if len(h.Panels) == 0 {
		return errors.New("plot: heat map has no panels")
	}
	for _, p := range h.Panels {
		if len(p.Cells) != len(h.Rows) {
			return fmt.Errorf("plot: panel %q has %d rows, want %d", p.Title, len(p.Cells), len(h.Rows))
		}
		for r, row := range p.Cells {
			if len(row) != len(h.Cols) {
				return fmt.Errorf("plot: panel %q row %q has %d cells, want %d", p.Title, h.Rows[r], len(row), len(h.Cols))
			}
			for c, rate := range row {
				if err := checkRate(rate); err != nil {
					return fmt.Errorf("plot: panel %q, cell %q/%q: %w", p.Title, h.Rows[r], h.Cols[c], err)
				}
			}
		}
	}
	return nil
}

// Heatmap draws each panel as a grid of cells coloured by rate (light = 0%,
// dark blue = 100%) and labelled with k/n, rows top to bottom, columns left
// to right with rotated labels, and one shared colour scale on the right.
// Cells with N = 0 are grey and labelled "n/a".
func Heatmap(h Heat) (*Figure, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	cols := 1
	if len(h.Panels) > 1 {
		cols = 2
	}
	rows := (len(h.Panels) + cols - 1) / cols
	cellW, cellH := vg.Points(30), vg.Points(20)
	// Room around a panel's cells for its title, tick labels and axis labels.
	panelW := vg.Length(len(h.Cols))*cellW + 1.3*vg.Inch
	panelH := vg.Length(len(h.Rows))*cellH + 1.9*vg.Inch
	scaleW := 0.9 * vg.Inch
	f := &Figure{
		Width:  vg.Length(cols)*panelW + scaleW,
		Height: vg.Length(rows)*panelH + 0.6*vg.Inch,
	}
	f.draw = func(c draw.Canvas) {
		c = drawTitle(c, h.Title)
		scale := draw.Crop(c, c.Max.X-c.Min.X-scaleW, 0, 0, 0)
		c = draw.Crop(c, 0, -scaleW, 0, 0)

		plots := make([][]*gplot.Plot, rows)
		for r := range plots {
			plots[r] = make([]*gplot.Plot, cols)
		}
		for i, panel := range h.Panels {
			p := newPlot()
			p.Title.Text = panel.Title
			p.X.Label.Text = h.XLabel
			p.Y.Label.Text = h.YLabel
			xt := make([]gplot.Tick, len(h.Cols))
			for j, name := range h.Cols {
				xt[j] = gplot.Tick{Value: float64(j), Label: name}
			}
			yt := make([]gplot.Tick, len(h.Rows))
			for j, name := range h.Rows {
				yt[j] = gplot.Tick{Value: float64(len(h.Rows) - 1 - j), Label: name}
			}
			p.X.Tick.Marker = gplot.ConstantTicks(xt)
			p.Y.Tick.Marker = gplot.ConstantTicks(yt)
			for _, a := range []*gplot.Axis{&p.X, &p.Y} {
				a.Width = 0
				a.Tick.Width = 0
				a.Tick.Length = 0
				a.Padding = vg.Points(4)
			}
			p.X.Min, p.X.Max = -0.5, float64(len(h.Cols))-0.5
			p.Y.Min, p.Y.Max = -0.5, float64(len(h.Rows))-0.5
			rotateXTicks(p)
			p.Add(&cellsPlotter{cells: panel.Cells})
			plots[i/cols][i%cols] = p
		}
		// The first column's rotated label reaches left past the y axis
		// (tick labels, axis label) and half a cell when names are long.
		yAxis := vg.Points(16)
		for _, name := range h.Rows {
			yAxis = max(yAxis, plots[0][0].Y.Tick.Label.Width(name)+vg.Points(24))
		}
		padLeft := max(vg.Points(4), rotatedReach(plots[0][0], h.Cols[0])-yAxis-cellW/2+vg.Points(4))
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12), PadLeft: padLeft, PadBottom: vg.Points(4)}
		canvases := gplot.Align(plots, tiles, c)
		for r := range plots {
			for k, p := range plots[r] {
				if p != nil {
					p.Draw(canvases[r][k])
				}
			}
		}
		drawScale(scale)
	}
	return f, nil
}

// cellsPlotter draws a panel's cells in data coordinates: cell (r, c) is
// centred on (c, len(rows)-1-r).
type cellsPlotter struct {
	cells [][]stats.Rate
}

func (cp *cellsPlotter) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	nrows := len(cp.cells)
	border := draw.LineStyle{Color: inkColorWhite, Width: vg.Points(1)}
	for r, row := range cp.cells {
		y := float64(nrows - 1 - r)
		for col, rate := range row {
			x := float64(col)
			poly := rect(trX(x-0.5), trY(y-0.5), trX(x+0.5), trY(y+0.5))
			fill, label := noDataColor, "n/a"
			if rate.Defined() {
				fill = heatColor(rate.P)
				label = strconv.Itoa(rate.K) + "/" + strconv.Itoa(rate.N)
			}
			c.FillPolygon(fill, poly)
			c.StrokeLines(border, append(poly, poly[0]))
			sty := textStyle(cellSize)
			sty.Color = inkColor
			if rate.Defined() && rate.P > 0.55 {
				sty.Color = inkColorWhite
			}
			c.FillText(sty, vg.Point{X: trX(x), Y: trY(y)}, label)
		}
	}
}

func (cp *cellsPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(cp.cells[0])) - 0.5, -0.5, float64(len(cp.cells)) - 0.5
}

// drawScale draws the colour scale, 0% at the bottom to 100% at the top,
// in the middle third of c.
func drawScale(c draw.Canvas) {
	const steps = 50
	h := (c.Max.Y - c.Min.Y) / 3
	y0 := c.Min.Y + h
	x0 := c.Min.X + vg.Points(10)
	w := vg.Points(14)
	for i := range steps {
		ya := y0 + h*vg.Length(i)/steps
		yb := y0 + h*vg.Length(i+1)/steps
		if i < steps-1 {
			yb += vg.Points(0.5) // overlap the next step: no anti-aliased seams
		}
		c.FillPolygon(heatColor((float64(i)+0.5)/steps), rect(x0, ya, x0+w, yb))
	}
	frame := rect(x0, y0, x0+w, y0+h)
	c.StrokeLines(draw.LineStyle{Color: inkColor, Width: vg.Points(0.5)}, append(frame, frame[0]))
	head := textStyle(tickSize)
	head.XAlign, head.YAlign = draw.XLeft, draw.YBottom
	c.FillText(head, vg.Point{X: x0, Y: y0 + h + vg.Points(6)}, "rate")
	sty := textStyle(tickSize)
	sty.XAlign = draw.XLeft
	for pct := 0; pct <= 100; pct += 25 {
		y := y0 + h*vg.Length(pct)/100
		c.StrokeLine2(draw.LineStyle{Color: inkColor, Width: vg.Points(0.5)}, x0+w, y, x0+w+vg.Points(3), y)
		c.FillText(sty, vg.Point{X: x0 + w + vg.Points(5), Y: y}, percentLabel(pct))
	}
}
