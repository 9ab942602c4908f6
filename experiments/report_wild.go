package experiments

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/corpus/wild"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/plot"
	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// WildReport derives the wild corpus's tables and figures from records:
// per split and detector the detection rate on malicious subjects and the
// false-positive rate on benign ones (mining-adjacent and ordinary apart),
// the same per family, every miss and false alarm of the scoring detectors
// with the findings that explain it, and per-family figures. Each subject
// is one image, so image-level and subject-level intervals coincide; grey
// subjects are reported apart. Adjacency comes from corpus/wild by subject
// name (records carry the subject name as Case).
func WildReport(records []Record) (*Report, error) {
	return wildReport(records, wild.Lookup)
}

// wildSubject is one subject of the wild corpus with the record each
// detector left for it.
type wildSubject struct {
	name, label, family, split string
	// adjacent marks a benign subject corpus/wild lists as mining-adjacent.
	adjacent bool
	recs     map[string]Record
}

// wildSplits orders splits: the tuning split first, then the held-out ones
// (round 1's test, round 2's test2), then anything unexpected (warned
// about).
func wildSplits(subjects []*wildSubject) []string {
	set := map[string]bool{}
	for _, s := range subjects {
		set[s.split] = true
	}
	out := []string{}
	for _, sp := range wild.Splits {
		if set[sp] {
			out = append(out, sp)
			delete(set, sp)
		}
	}
	return append(out, sortedKeys(set)...)
}

// wildSubjectName is the subject a record is about: its Case, or the store
// name without "wild/" for records that lack one.
func wildSubjectName(r Record) string {
	if r.Case != "" {
		return r.Case
	}
	return strings.TrimPrefix(r.Image, Wild+"/")
}

// collectWild selects the last record of each (image, detector), groups them
// by subject and fills each subject's ground truth from its records.
func collectWild(records []Record, lookup func(string) (wild.Subject, bool), warn func(string, ...any)) ([]*wildSubject, []string, map[string]map[string]bool) {
	last := selectLast(records, func(r Record) string {
		if r.Experiment != Wild {
			return fmt.Sprintf("experiment %q", r.Experiment)
		}
		return ""
	}, warn)
	groups := groupImages(records, last, wildSubjectName)
	detSet := map[string]bool{}
	versions := map[string]map[string]bool{}
	var subjects []*wildSubject
	var grouped warnGroups
	for _, name := range sortedKeys(groups.unitImage) {
		if imgs := groups.allImages[name]; len(imgs) > 1 {
			grouped.add("subjects recorded under more than one image (the image recorded last is used)",
				fmt.Sprintf("%s: %s", name, strings.Join(sortedKeys(imgs), ", ")))
		}
		img := groups.images[groups.unitImage[name]]
		s := &wildSubject{name: name, recs: img.recs}
		for i, d := range sortedKeys(img.recs) {
			r := img.recs[d]
			detSet[d] = true
			if versions[d] == nil {
				versions[d] = map[string]bool{}
			}
			versions[d][r.DetectorVersion] = true
			if i == 0 {
				s.label, s.family, s.split = r.Label, r.Family, r.Split
				continue
			}
			if r.Label != s.label || r.Family != s.family || r.Split != s.split {
				grouped.add("records of one subject disagree on label, family or split (the alphabetically first detector's record is used)",
					fmt.Sprintf("%s: %s says %s/%s/%s", name, d, r.Label, r.Family, r.Split))
			}
		}
		cs, known := lookup(name)
		switch {
		case !known && s.label == LabelBenign:
			grouped.add("benign subjects not in corpus/wild (counted as ordinary, not mining-adjacent)", name)
		case known:
			s.adjacent = cs.Adjacent && s.label == LabelBenign
		}
		if s.split == "" {
			grouped.add("subjects without a split (listed under \"none\"; check corpus/wild/split.json)", name)
			s.split = "none"
		}
		if s.family == "" {
			s.family = cs.Family
		}
		if s.label != LabelMalicious && s.label != LabelBenign && s.label != LabelGrey {
			grouped.add("subjects with an unknown label (not counted)", fmt.Sprintf("%s: %q", name, s.label))
		}
		subjects = append(subjects, s)
	}
	grouped.flush(warn)
	dets := sortedKeys(detSet)
	warnMixedVersions(dets, versions, warn)
	return subjects, dets, versions
}

// wildTally counts one detector's verdicts over a set of subjects.
type wildTally struct {
	tp, pos, fp, neg     int
	fpAdj, adj           int // benign mining-adjacent subjects
	greyFlagged, grey    int
	incomplete, errOrMis int
}

func (t *wildTally) add(s *wildSubject, det string) {
	r, ok := s.recs[det]
	f := flagged(r, ok)
	switch v := verdict(r, ok); v {
	case "incomplete":
		t.incomplete++
	case "error", "missing", "unknown":
		t.errOrMis++
	}
	b := func(x bool) int {
		if x {
			return 1
		}
		return 0
	}
	switch s.label {
	case LabelMalicious:
		t.pos++
		t.tp += b(f)
	case LabelBenign:
		t.neg++
		t.fp += b(f)
		if s.adjacent {
			t.adj++
			t.fpAdj += b(f)
		}
	case LabelGrey:
		t.grey++
		t.greyFlagged += b(f)
	}
}

func (t wildTally) tpr() stats.Rate    { return stats.ClopperPearson(t.tp, t.pos, confidence) }
func (t wildTally) fpr() stats.Rate    { return stats.ClopperPearson(t.fp, t.neg, confidence) }
func (t wildTally) fprAdj() stats.Rate { return stats.ClopperPearson(t.fpAdj, t.adj, confidence) }
func (t wildTally) fprOrd() stats.Rate {
	return stats.ClopperPearson(t.fp-t.fpAdj, t.neg-t.adj, confidence)
}

// tallyWild tallies det over the subjects keep lets through.
func tallyWild(subjects []*wildSubject, det string, keep func(*wildSubject) bool) wildTally {
	var t wildTally
	for _, s := range subjects {
		if keep(s) {
			t.add(s, det)
		}
	}
	return t
}

func wildReport(records []Record, lookup func(string) (wild.Subject, bool)) (*Report, error) {
	rep := &Report{Title: "Wild corpus: distinct subjects, pre-registered dev/test split"}
	subjects, dets, versions := collectWild(records, lookup, rep.warnf)
	if len(subjects) == 0 {
		return nil, fmt.Errorf("no %s records among %d: run `strata experiment %s` first", Wild, len(records), Wild)
	}
	splits := wildSplits(subjects)
	rep.Tables = append(rep.Tables, wildSummaryTable(subjects, splits, dets, versions),
		wildFamilyTable(subjects, splits, dets), wildExplainTable(subjects, dets), costTable(records, Wild))
	for _, label := range []string{LabelMalicious, LabelBenign} {
		for _, sp := range splits {
			nf, err := wildFamilyFigure(subjects, sp, label, dets)
			if err != nil {
				return nil, err
			}
			if nf != nil {
				rep.Figures = append(rep.Figures, *nf)
			}
		}
	}
	return rep, nil
}

func wildSummaryTable(subjects []*wildSubject, splits, dets []string, versions map[string]map[string]bool) NamedTable {
	cols := []table.Column{{Header: "split", Key: "split"}, {Header: "detector", Key: "detector"},
		{Key: "detector_version", CSVOnly: true},
		{Header: "malicious", Key: "malicious"}, {Header: "flagged", Key: "tp"}}
	cols = append(cols, rateColumns("TPR", "tpr")...)
	cols = append(cols, table.Column{Header: "benign", Key: "benign"}, table.Column{Header: "flagged", Key: "fp"})
	cols = append(cols, rateColumns("FPR", "fpr")...)
	cols = append(cols, rateColumns("FPR mining-adjacent", "fpr_adjacent")...)
	cols = append(cols, rateColumns("FPR ordinary", "fpr_ordinary")...)
	cols = append(cols, table.Column{Header: "grey flagged", Key: "grey"}, table.Column{Header: "incomplete", Key: "incomplete"},
		table.Column{Header: "error/missing", Key: "error_missing"})
	t := table.New(cols...)
	for _, sp := range splits {
		for _, d := range dets {
			c := tallyWild(subjects, d, func(s *wildSubject) bool { return s.split == sp })
			if c.pos+c.neg+c.grey == 0 {
				continue
			}
			row := []string{sp, d, strings.Join(sortedKeys(versions[d]), " "), strconv.Itoa(c.pos), strconv.Itoa(c.tp)}
			row = append(row, rateCells(c.tpr())...)
			row = append(row, strconv.Itoa(c.neg), strconv.Itoa(c.fp))
			row = append(row, rateCells(c.fpr())...)
			row = append(row, rateCells(c.fprAdj())...)
			row = append(row, rateCells(c.fprOrd())...)
			row = append(row, fmt.Sprintf("%d/%d", c.greyFlagged, c.grey), strconv.Itoa(c.incomplete), strconv.Itoa(c.errOrMis))
			t.Append(row...)
		}
	}
	return NamedTable{Name: "summary", Title: "Detection and false-positive rates per split",
		Note: "One image per distinct subject, so these are subject-level rates. TPR = flagged malicious subjects / malicious subjects, " +
			"FPR = flagged benign / benign, 95% Clopper-Pearson intervals. FPR is also split into mining-adjacent benign subjects " +
			"(blockchain nodes, wallets, IDS rules, miner killers, ...; corpus/wild/README.md) and ordinary ones. " +
			"dev is the tuning split, test the held-out one (corpus/wild/split.json). Grey subjects (pool software) are counted apart. " +
			"Incomplete, error and missing verdicts count as not flagged.",
		Table: t}
}

// wildMeasure names what a family's rate measures.
func wildMeasure(label string) string {
	switch label {
	case LabelMalicious:
		return "TPR"
	case LabelBenign:
		return "FPR"
	}
	return "flagged"
}

// wildFamilies returns the families of subjects with label, sorted.
func wildFamilies(subjects []*wildSubject, label string) []string {
	set := map[string]bool{}
	for _, s := range subjects {
		if s.label == label {
			set[s.family] = true
		}
	}
	return sortedKeys(set)
}

func wildFamilyTable(subjects []*wildSubject, splits, dets []string) NamedTable {
	cols := []table.Column{{Header: "split", Key: "split"}, {Header: "label", Key: "label"}, {Header: "family", Key: "family"},
		{Header: "detector", Key: "detector"}, {Header: "measure", Key: "measure"},
		{Header: "subjects", Key: "subjects"}, {Header: "flagged", Key: "flagged"}}
	cols = append(cols, rateColumns("rate", "rate")...)
	cols = append(cols, table.Column{Header: "incomplete", Key: "incomplete"})
	t := table.New(cols...)
	for _, sp := range splits {
		for _, label := range []string{LabelMalicious, LabelBenign, LabelGrey} {
			for _, fam := range wildFamilies(subjects, label) {
				for _, d := range dets {
					var n, k, inc int
					for _, s := range subjects {
						if s.split != sp || s.label != label || s.family != fam {
							continue
						}
						r, ok := s.recs[d]
						n++
						if flagged(r, ok) {
							k++
						}
						if verdict(r, ok) == "incomplete" {
							inc++
						}
					}
					if n == 0 {
						continue
					}
					row := []string{sp, label, fam, d, wildMeasure(label), strconv.Itoa(n), strconv.Itoa(k)}
					row = append(row, rateCells(stats.ClopperPearson(k, n, confidence))...)
					t.Append(append(row, strconv.Itoa(inc))...)
				}
			}
		}
	}
	return NamedTable{Name: "families", Title: "Rates per split, family and detector",
		Note: "rate is the TPR for malicious families (flagged / subjects), the FPR for benign families and the flagged share for grey ones, " +
			"with 95% Clopper-Pearson intervals. Families have two to five subjects, so the intervals are wide: read them as where to look, not as estimates.",
		Table: t}
}

// scoringDetectors are the detectors whose verdict is a score against a
// threshold above 1 (a weighted sum), not a yes/no vote: their misses and
// false alarms have findings worth reading.
func scoringDetectors(subjects []*wildSubject, dets []string) []string {
	var out []string
	for _, d := range dets {
		for _, s := range subjects {
			if r, ok := s.recs[d]; ok && r.Threshold > 1 {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// maxExplainFindings is how many findings a row of the explain table shows.
const maxExplainFindings = 3

// wildExplainKind says why a verdict needs explaining, or "".
func wildExplainKind(s *wildSubject, r Record, ok bool) string {
	f := flagged(r, ok)
	switch {
	case s.label == LabelMalicious && !f:
		return "miss"
	case s.label == LabelBenign && f:
		return "false alarm"
	case s.label == LabelGrey && f:
		return "grey flagged"
	}
	return ""
}

func wildExplainTable(subjects []*wildSubject, dets []string) NamedTable {
	t := table.New(
		table.Column{Header: "kind", Key: "kind"},
		table.Column{Header: "subject", Key: "subject"},
		table.Column{Header: "split", Key: "split"},
		table.Column{Header: "family", Key: "family"},
		table.Column{Header: "label", Key: "label"},
		table.Column{Header: "detector", Key: "detector"},
		table.Column{Header: "decision", Key: "decision"},
		table.Column{Header: "score/threshold", Key: "score_threshold"},
		table.Column{Key: "score", CSVOnly: true},
		table.Column{Key: "threshold", CSVOnly: true},
		table.Column{Header: "top findings", Key: "findings"},
	)
	scoring := scoringDetectors(subjects, dets)
	for _, d := range scoring {
		for _, kind := range []string{"miss", "false alarm", "grey flagged"} {
			for _, sp := range wildSplits(subjects) {
				for _, s := range subjects {
					r, ok := s.recs[d]
					if s.split != sp || wildExplainKind(s, r, ok) != kind {
						continue
					}
					t.Append(wildExplainRow(kind, s, d, r, ok)...)
				}
			}
		}
	}
	return NamedTable{Name: "explain", Title: "Misses and false alarms, with the findings behind them",
		Note: "Every miss (malicious, not flagged: clean, incomplete, error or missing), false alarm (benign, flagged) and flagged grey subject of the detectors that score (" +
			strings.Join(scoring, ", ") + "). top findings are the heaviest recorded findings as rule (weight) layer path: evidence, shortened; " +
			"layer -1 is the image config. For a miss they show what the detector saw and why it stayed below the threshold.",
		Table: t}
}

// wildExplainRow is one row of the explain table.
func wildExplainRow(kind string, s *wildSubject, d string, r Record, ok bool) []string {
	label := s.label
	if s.adjacent {
		label += " (mining-adjacent)"
	}
	score, thr, st := "", "", ""
	if ok {
		score, thr = fnum(r.Score), fnum(r.Threshold)
		st = score + "/" + thr
	}
	return []string{kind, s.name, s.split, s.family, label, d, verdict(r, ok), st, score, thr, topFindings(r.Findings, maxExplainFindings)}
}

// topFindings summarises the n heaviest findings (ties in recorded order)
// for one table cell.
func topFindings(fs []detectors.Finding, n int) string {
	if len(fs) == 0 {
		return "(none recorded)"
	}
	sorted := slices.Clone(fs)
	slices.SortStableFunc(sorted, func(a, b detectors.Finding) int {
		switch {
		case a.Weight > b.Weight:
			return -1
		case a.Weight < b.Weight:
			return 1
		}
		return 0
	})
	var parts []string
	for _, f := range sorted[:min(n, len(sorted))] {
		p := fmt.Sprintf("%s (%s) L%d", f.Rule, fnum(f.Weight), f.Layer)
		if f.Path != "" {
			path := shortenLeft(f.Path, 48)
			if f.Hidden {
				path += fmt.Sprintf(" (deleted by layer %d)", f.RemovedBy)
			}
			p += " " + path
		}
		if ev := strings.Join(strings.Fields(f.Evidence), " "); ev != "" {
			p += ": " + shortenRight(ev, 60)
		}
		parts = append(parts, p)
	}
	if len(fs) > n {
		parts = append(parts, fmt.Sprintf("+%d more", len(fs)-n))
	}
	return strings.Join(parts, "; ")
}

// shortenRight keeps the first n runes of s, marking a cut with "…".
func shortenRight(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// shortenLeft keeps the last n runes of s (the file name end of a path),
// marking a cut with "…".
func shortenLeft(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// wildFamilyFigure draws one split's per-family rates of the subjects with
// label, one bar per detector; nil when the split has no such subject.
func wildFamilyFigure(subjects []*wildSubject, split, label string, dets []string) (*NamedFigure, error) {
	fams := wildFamilies(subjects, label)
	if len(fams) == 0 {
		return nil, nil
	}
	measure := wildMeasure(label)
	bars := plot.Bars{
		Title:  fmt.Sprintf("Wild %s: %s per %s family", split, measure, label),
		XLabel: label + " family",
		YLabel: measure + " (distinct subjects, 95% CI)",
		Groups: fams,
	}
	drawn := false
	for _, d := range dets {
		ser := plot.Series{Name: d}
		for _, fam := range fams {
			c := tallyWild(subjects, d, func(s *wildSubject) bool {
				return s.split == split && s.label == label && s.family == fam
			})
			if label == LabelMalicious {
				ser.Rates = append(ser.Rates, c.tpr())
			} else {
				ser.Rates = append(ser.Rates, c.fpr())
			}
			drawn = drawn || c.pos+c.neg > 0
		}
		bars.Series = append(bars.Series, ser)
	}
	if !drawn {
		return nil, nil
	}
	fig, err := plot.GroupedBars(bars)
	if err != nil {
		return nil, fmt.Errorf("figure %s %s by family: %w", split, measure, err)
	}
	name := strings.ToLower(measure) + "_by_family_" + split
	return &NamedFigure{Name: name, Title: bars.Title,
		Note: fmt.Sprintf("%s of each detector per %s family on the %s split (table families), 95%% Clopper-Pearson intervals; n/a: no subject of the family in this split.",
			measure, label, split),
		Figure: fig}, nil
}
