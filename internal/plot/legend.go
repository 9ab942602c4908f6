package plot

import (
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type legendEntry struct {
	name  string
	color color.Color
}

// drawLegend lays the entries out left to right in centred rows across the
// top of c (a swatch, then the name) and returns c without that band. It is
// drawn outside the data area, where gonum's own legend would cover bars
// that reach 100%.
func drawLegend(c draw.Canvas, entries []legendEntry) draw.Canvas {
	if len(entries) == 0 {
		return c
	}
	sty := textStyle(legendSize)
	sty.XAlign = draw.XLeft
	swatch := vg.Points(legendSize)
	gap := vg.Points(4)      // swatch to name
	spacing := vg.Points(18) // entry to entry
	rowH := sty.Rectangle("Xg").Size().Y + vg.Points(4)
	avail := c.Max.X - c.Min.X - vg.Points(20)

	widths := make([]vg.Length, len(entries))
	for i, e := range entries {
		widths[i] = swatch + gap + sty.Width(e.name)
	}
	// Greedy rows: as many entries as fit.
	var rows [][]int
	var rowW []vg.Length
	for i, w := range widths {
		last := len(rows) - 1
		if last >= 0 && rowW[last]+spacing+w <= avail {
			rows[last] = append(rows[last], i)
			rowW[last] += spacing + w
			continue
		}
		rows = append(rows, []int{i})
		rowW = append(rowW, w)
	}
	y := c.Max.Y - rowH/2
	for r, row := range rows {
		x := c.Center().X - rowW[r]/2
		for _, i := range row {
			e := entries[i]
			c.FillPolygon(e.color, rect(x, y-swatch/2, x+swatch, y+swatch/2))
			c.StrokeLines(draw.LineStyle{Color: inkColor, Width: vg.Points(0.5)},
				append(rect(x, y-swatch/2, x+swatch, y+swatch/2), vg.Point{X: x, Y: y - swatch/2}))
			c.FillText(sty, vg.Point{X: x + swatch + gap, Y: y}, e.name)
			x += widths[i] + spacing
		}
		y -= rowH
	}
	return draw.Crop(c, 0, 0, 0, -(vg.Length(len(rows))*rowH + vg.Points(6)))
}
