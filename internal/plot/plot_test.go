package plot

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sec/strata/internal/stats"
)

var update = flag.Bool("update", false, "rewrite testdata golden files from the current output")

func rate(k, n int) stats.Rate { return stats.ClopperPearson(k, n, 0.95) }

// Small inputs that exercise every drawing path: 0%, 100%, n/a, long
// labels (rotated), more panels than fill the grid.
func testBars(groups ...string) Bars {
	return Bars{
		Title: "Detection rate", XLabel: "mutation type", YLabel: "rate (95% CI)",
		Groups: groups,
		Series: []Series{
			{Name: "alpha", Rates: []stats.Rate{rate(0, 35), rate(35, 35), rate(12, 35)}},
			{Name: "beta", Rates: []stats.Rate{rate(20, 35), rate(0, 0), rate(34, 35)}},
		},
	}
}

func testHeat(panels int) Heat {
	h := Heat{
		Title: "Detected per case", XLabel: "type", YLabel: "case",
		Cols: []string{"add-dummy-layer", "squash", "random-label"},
		Rows: []string{"000 (benign)", "001"},
	}
	for p := range panels {
		h.Panels = append(h.Panels, Panel{
			Title: string(rune('A' + p)),
			Cells: [][]stats.Rate{
				{rate(0, 5), rate(1, 5), rate(0, 0)},
				{rate(5, 5), rate(3, 5), rate(p, 5)},
			},
		})
	}
	return h
}

type render struct {
	name string
	fig  func() (*Figure, error)
}

func renders() []render {
	return []render{
		{"bars", func() (*Figure, error) {
			return GroupedBars(testBars("add-randomized-environment-variable", "inject-dummy-layer", "squash"))
		}},
		{"bars_short", func() (*Figure, error) { return GroupedBars(testBars("a", "b", "c")) }},
		{"heat_one", func() (*Figure, error) { return Heatmap(testHeat(1)) }},
		{"heat_three", func() (*Figure, error) { return Heatmap(testHeat(3)) }},
	}
}

func renderFig(t *testing.T, r render) (pngBytes, svgBytes []byte) {
	t.Helper()
	f, err := r.fig()
	if err != nil {
		t.Fatal(err)
	}
	var p, s bytes.Buffer
	if err := f.WritePNG(&p); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteSVG(&s); err != nil {
		t.Fatal(err)
	}
	return p.Bytes(), s.Bytes()
}

func golden(t *testing.T, path string, got []byte, png bool) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !png {
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (go test -update rewrites it)", path)
		}
		return
	}
	diff, err := DiffPNG(got, want)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Errorf("%s: %s (go test -update rewrites it)", path, diff)
	}
}

// TestPlotGolden compares SVGs byte for byte and PNGs pixel for pixel with
// testdata/*.golden. Look at the PNGs after -update.
func TestPlotGolden(t *testing.T) {
	for _, r := range renders() {
		t.Run(r.name, func(t *testing.T) {
			p, s := renderFig(t, r)
			golden(t, filepath.Join("testdata", r.name+".png.golden"), p, true)
			golden(t, filepath.Join("testdata", r.name+".svg.golden"), s, false)
		})
	}
}

// TestPlotDeterministic renders every figure twice, from fresh inputs: the
// bytes must not change (no timestamps, no map order, no global state).
func TestPlotDeterministic(t *testing.T) {
	for _, r := range renders() {
		t.Run(r.name, func(t *testing.T) {
			p1, s1 := renderFig(t, r)
			p2, s2 := renderFig(t, r)
			if !bytes.Equal(p1, p2) {
				t.Error("PNG bytes differ between two renderings")
			}
			if !bytes.Equal(s1, s2) {
				t.Error("SVG bytes differ between two renderings")
			}
		})
	}
}

func TestPlotSVG(t *testing.T) {
	tests := []struct {
		name      string
		r         render
		want      []string
		forbidden []string
	}{
		{
			name:      "long labels rotated, fonts with fallback",
			r:         renders()[0],
			want:      []string{"font-family:'Liberation Sans',Arial,Helvetica,sans-serif;", "rotate(30", ">inject-dummy-layer<", ">n/a<"},
			forbidden: []string{"Liberation Serif", "font-family:Liberation Sans;"},
		},
		{
			name:      "short labels not rotated",
			r:         renders()[1],
			forbidden: []string{"rotate(30"}, // the y label's quarter turn is rotate(90)
		},
		{
			name: "heat map cells labelled k/n",
			r:    renders()[3],
			want: []string{">5/5<", ">0/5<", ">n/a<", ">2/5<", ">100%<"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := renderFig(t, tt.r)
			for _, w := range tt.want {
				if !strings.Contains(string(s), w) {
					t.Errorf("SVG lacks %q", w)
				}
			}
			for _, f := range tt.forbidden {
				if strings.Contains(string(s), f) {
					t.Errorf("SVG contains %q", f)
				}
			}
		})
	}
}

func TestPlotRejectsBadInput(t *testing.T) {
	bad := rate(3, 5)
	bad.Lo = 0.9 // above P
	tests := []struct {
		name string
		fig  func() (*Figure, error)
	}{
		{"bars without groups", func() (*Figure, error) { return GroupedBars(Bars{Series: []Series{{Name: "a"}}}) }},
		{"bars without series", func() (*Figure, error) { return GroupedBars(Bars{Groups: []string{"g"}}) }},
		{"bars with short series", func() (*Figure, error) {
			return GroupedBars(Bars{Groups: []string{"g", "h"}, Series: []Series{{Name: "a", Rates: []stats.Rate{rate(1, 2)}}}})
		}},
		{"bars with interval outside the rate", func() (*Figure, error) {
			return GroupedBars(Bars{Groups: []string{"g"}, Series: []Series{{Name: "a", Rates: []stats.Rate{bad}}}})
		}},
		{"bars with NaN", func() (*Figure, error) {
			return GroupedBars(Bars{Groups: []string{"g"}, Series: []Series{{Name: "a", Rates: []stats.Rate{{K: 1, N: 2, P: math.NaN()}}}}})
		}},
		{"heat without panels", func() (*Figure, error) { h := testHeat(0); return Heatmap(h) }},
		{"heat without columns", func() (*Figure, error) { h := testHeat(1); h.Cols = nil; return Heatmap(h) }},
		{"heat with a missing row", func() (*Figure, error) {
			h := testHeat(1)
			h.Panels[0].Cells = h.Panels[0].Cells[:1]
			return Heatmap(h)
		}},
		{"heat with a short row", func() (*Figure, error) {
			h := testHeat(2)
			h.Panels[1].Cells[1] = h.Panels[1].Cells[1][:2]
			return Heatmap(h)
		}},
		{"heat with k above n", func() (*Figure, error) {
			h := testHeat(1)
			h.Panels[0].Cells[0][0] = stats.Rate{K: 6, N: 5, P: 1.2, Lo: 1, Hi: 1}
			return Heatmap(h)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, err := tt.fig(); err == nil {
				t.Errorf("got figure %v, want an error", f)
			}
		})
	}
}

func TestDiffPNG(t *testing.T) {
	short, _ := renderFig(t, renders()[1])
	long, _ := renderFig(t, renders()[0]) // same size, other labels
	heat, _ := renderFig(t, renders()[2])
	tests := []struct {
		name      string
		got, want []byte
		wantDiff  string // substring; "" for no difference
		wantErr   bool
	}{
		{name: "same", got: short, want: short},
		{name: "other pixels", got: short, want: long, wantDiff: "pixels differ"},
		{name: "other size", got: short, want: heat, wantDiff: "size"},
		{name: "not a png", got: short, want: []byte("not a png"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DiffPNG(tt.got, tt.want)
			switch {
			case tt.wantErr:
				if err == nil {
					t.Error("want an error")
				}
			case err != nil:
				t.Fatal(err)
			case tt.wantDiff == "" && d != "":
				t.Errorf("diff %q, want none", d)
			case tt.wantDiff != "" && !strings.Contains(d, tt.wantDiff):
				t.Errorf("diff %q, want one mentioning %q", d, tt.wantDiff)
			}
		})
	}
}
