package experiments

// The exp2 report's figures: detection rate per mutation type (the paper's
// Figure 2) and the per-case heatmap. typeBars draws exp3's bars too.

import (
	"fmt"

	"github.com/strata-sec/strata/internal/plot"
	"github.com/strata-sec/strata/internal/stats"
)

func exp2Figures(data *exp2Data) ([]NamedFigure, error) {
	barFig, err := typeBars(data, "Detection rate per mutation type (malicious variants)", "detection rate (TPR, 95% CI)", exp2Counts.tpr)
	if err != nil {
		return nil, fmt.Errorf("figure detection_by_type: %w", err)
	}

	heat := plot.Heat{
		Title:  "Detected variants per case and mutation type",
		XLabel: "mutation type",
		YLabel: "case (layers 8, 9, 10 present)",
		Cols:   data.types,
	}
	for _, c := range exp1Cases() {
		label := c
		if c == benignCase {
			label += " (benign)"
		}
		heat.Rows = append(heat.Rows, label)
	}
	for _, d := range data.dets {
		p := plot.Panel{Title: d}
		for _, c := range exp1Cases() {
			var row []stats.Rate
			for _, mt := range data.types {
				cc := data.cell[d][mt][c]
				row = append(row, stats.ClopperPearson(cc.detected, cc.images, confidence))
			}
			p.Cells = append(p.Cells, row)
		}
		heat.Panels = append(heat.Panels, p)
	}
	heatFig, err := plot.Heatmap(heat)
	if err != nil {
		return nil, fmt.Errorf("figure cases_heatmap: %w", err)
	}
	return []NamedFigure{
		{
			Name:  "detection_by_type",
			Title: "Detection rate per mutation type (the paper's Figure 2)",
			Note: "One group of bars per mutation type, one bar per detector: the share of malicious variants flagged, " +
				"error bars the 95% Clopper-Pearson interval (table tpr_by_type). The paper's Figure 2 shows the same quantity without intervals.",
			Figure: barFig,
		},
		{
			Name:  "cases_heatmap",
			Title: "Detected variants per case and mutation type",
			Note: "One panel per detector; each cell is k/n variants flagged (one per seed), darker = more. " +
				"The case 000 row has no malicious layer, so anything there is a false positive (tables cases_<detector>).",
			Figure: heatFig,
		},
	}, nil
}

// typeBars draws one group of bars per mutation type of data, one bar per
// detector: rate of its counts over that type's variants.
func typeBars(data *exp2Data, title, ylabel string, rate func(exp2Counts) stats.Rate) (*plot.Figure, error) {
	bars := plot.Bars{Title: title, XLabel: "mutation type", YLabel: ylabel, Groups: data.types}
	for _, d := range data.dets {
		s := plot.Series{Name: d}
		for _, mt := range data.types {
			s.Rates = append(s.Rates, rate(data.byType[d][mt]))
		}
		bars.Series = append(bars.Series, s)
	}
	return plot.GroupedBars(bars)
}
