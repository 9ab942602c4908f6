package experiments

import (
	"fmt"
	"strconv"

	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// WildReport derives the wild corpus's tables from records: per split and
// detector, the detection rate on malicious subjects and the false-positive
// rate on benign ones, each subject counted once (subjects are distinct, so
// image-level and subject-level intervals coincide); grey subjects apart.
func WildReport(records []Record) (*Report, error) {
	rep := &Report{Title: "Wild corpus: distinct subjects, pre-registered dev/test split"}
	warn := func(format string, args ...any) { rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...)) }
	last := selectLast(records, func(r Record) string {
		if r.Experiment != Wild {
			return fmt.Sprintf("experiment %q", r.Experiment)
		}
		return ""
	}, warn)
	groups := groupImages(records, last, func(r Record) string { return r.Image })
	if len(groups.images) == 0 {
		return nil, fmt.Errorf("no %s records among %d", Wild, len(records))
	}
	type tally struct{ tp, pos, fp, neg, grey, greyFlagged, incomplete int }
	tallies := map[[2]string]*tally{}
	detSet := map[string]bool{}
	for _, name := range sortedKeys(groups.images) {
		for d, r := range groups.images[name].recs {
			detSet[d] = true
			k := [2]string{r.Split, d}
			if tallies[k] == nil {
				tallies[k] = &tally{}
			}
			t := tallies[k]
			f := flagged(r, true)
			if verdict(r, true) == "incomplete" {
				t.incomplete++
			}
			switch r.Label {
			case LabelMalicious:
				t.pos++
				if f {
					t.tp++
				}
			case LabelBenign:
				t.neg++
				if f {
					t.fp++
				}
			case LabelGrey:
				t.grey++
				if f {
					t.greyFlagged++
				}
			}
		}
	}
	cols := []table.Column{{Header: "split", Key: "split"}, {Header: "detector", Key: "detector"},
		{Header: "malicious", Key: "malicious"}, {Header: "flagged", Key: "tp"}}
	cols = append(cols, rateColumns("TPR", "tpr")...)
	cols = append(cols, table.Column{Header: "benign", Key: "benign"}, table.Column{Header: "flagged", Key: "fp"})
	cols = append(cols, rateColumns("FPR", "fpr")...)
	cols = append(cols, table.Column{Header: "grey flagged", Key: "grey"}, table.Column{Header: "incomplete", Key: "incomplete"})
	t := table.New(cols...)
	for _, split := range []string{"dev", "test"} {
		for _, d := range sortedKeys(detSet) {
			c := tallies[[2]string{split, d}]
			if c == nil {
				continue
			}
			row := []string{split, d, strconv.Itoa(c.pos), strconv.Itoa(c.tp)}
			row = append(row, rateCells(stats.ClopperPearson(c.tp, c.pos, confidence))...)
			row = append(row, strconv.Itoa(c.neg), strconv.Itoa(c.fp))
			row = append(row, rateCells(stats.ClopperPearson(c.fp, c.neg, confidence))...)
			row = append(row, fmt.Sprintf("%d/%d", c.greyFlagged, c.grey), strconv.Itoa(c.incomplete))
			t.Append(row...)
		}
	}
	rep.Tables = append(rep.Tables, NamedTable{Name: "summary", Title: "Detection and false-positive rates per split",
		Note:  "One image per distinct subject. TPR = flagged malicious subjects / malicious subjects, FPR = flagged benign / benign, 95% Clopper-Pearson intervals. Grey subjects (pool software) are counted apart.",
		Table: t})
	return rep, nil
}
