package experiments

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/internal/table"
)

// wildAblationTable summarises the hierarchical detector's ablation on the
// wild corpus: per variant, how many malicious and benign subjects it
// flags (both splits together: the ablation is an analysis of the
// detector, not a test-split number) and, against the full detector,
// which decisions change, per family. It answers whether a kind of
// evidence (the start graph, the layer hierarchy) changes decisions that
// the others would not make anyway.
func wildAblationTable(ablation []Record, warn func(string, ...any)) *NamedTable {
	if len(ablation) == 0 {
		warn("no ablation records (%s): the ablation table is left out", AblationFile)
		return nil
	}
	last := selectLast(ablation, func(r Record) string {
		if r.Experiment != Wild {
			return fmt.Sprintf("experiment %q", r.Experiment)
		}
		return ""
	}, warn)
	groups := groupImages(ablation, last, func(r Record) string { return r.Image })
	variants := map[string]bool{}
	for _, img := range groups.images {
		for d := range img.recs {
			variants[d] = true
		}
	}
	if !variants[AblationAll] {
		warn("ablation: no %s records; the ablation table is left out", AblationAll)
		return nil
	}
	t := table.New(
		table.Column{Header: "variant", Key: "variant"},
		table.Column{Header: "malicious flagged", Key: "tp"},
		table.Column{Header: "benign flagged", Key: "fp"},
		table.Column{Header: "decisions changed", Key: "changed"},
		table.Column{Header: "changes per family (lost - / gained +)", Key: "families"},
	)
	names := sortedKeys(groups.images)
	for _, v := range sortedKeysFunc(variants, compareAblation) {
		var tp, pos, fp, neg, changed int
		lost, gained := map[string]int{}, map[string]int{}
		for _, name := range names {
			img := groups.images[name]
			r, ok := img.recs[v]
			full, fok := img.recs[AblationAll]
			if !ok || !fok {
				continue
			}
			f := flagged(r, true)
			switch r.Label {
			case LabelMalicious:
				pos++
				if f {
					tp++
				}
			case LabelBenign:
				neg++
				if f {
					fp++
				}
			}
			if ff := flagged(full, true); ff != f {
				changed++
				if ff {
					lost[r.Family]++
				} else {
					gained[r.Family]++
				}
			}
		}
		var fams []string
		for _, fam := range sortedKeys(mergeKeys(lost, gained)) {
			s := fam + ":"
			if lost[fam] > 0 {
				s += " -" + strconv.Itoa(lost[fam])
			}
			if gained[fam] > 0 {
				s += " +" + strconv.Itoa(gained[fam])
			}
			fams = append(fams, s)
		}
		t.Append(v, fmt.Sprintf("%d/%d", tp, pos), fmt.Sprintf("%d/%d", fp, neg), strconv.Itoa(changed), strings.Join(fams, ", "))
	}
	return &NamedTable{
		Name:  "ablation",
		Title: "Ablation of the hierarchical detector's signals on the wild corpus (dev and test together)",
		Note: "Each variant switches signals off (without-X) or keeps one (only-X). Decisions changed counts subjects whose flagged/clean decision " +
			"differs from the full detector's; per family, - is a subject the full detector flags and the variant does not, + the reverse.",
		Table: t,
	}
}

// mergeKeys returns a map holding the keys of every map given.
func mergeKeys(ms ...map[string]int) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}
