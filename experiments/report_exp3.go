package experiments

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/internal/plot"
	"github.com/strata-sec/strata/internal/table"
)

// Exp3ReportDir reads experiment 3's record files in dir (records.jsonl,
// ablation.jsonl, not-applicable.jsonl) and builds its report.
func Exp3ReportDir(dir string) (*Report, error) {
	recs, warns, err := readRecordsWarn(filepath.Join(dir, "records.jsonl"))
	if err != nil {
		return nil, err
	}
	abl, awarns, err := readRecordsWarn(filepath.Join(dir, AblationFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	nas, err := ReadNotApplicable(filepath.Join(dir, NotApplicableFile))
	if err != nil {
		return nil, err
	}
	rep, err := Exp3Report(recs, abl, nas)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	rep.Warnings = append(append(warns, awarns...), rep.Warnings...)
	return rep, nil
}

// exp3TallyAny is exp3Tally for record sets (ablation.jsonl) that hold
// several experiments: other experiments' records are skipped silently.
func exp3TallyAny(records []Record, exp string, warn func(string, ...any)) *exp2Data {
	var mine []Record
	for _, r := range records {
		if r.Experiment == exp {
			mine = append(mine, r)
		}
	}
	return exp3Tally(mine, exp, warn)
}

// exp3Tally tallies records per detector and mutation type over images.
func exp3Tally(records []Record, exp string, warn func(string, ...any)) *exp2Data {
	last := selectLast(records, func(r Record) string {
		if r.Experiment != exp {
			return fmt.Sprintf("experiment %q", r.Experiment)
		}
		if r.Mutation == "" {
			return "no mutation"
		}
		return ""
	}, warn)
	groups := groupImages(records, last, func(r Record) string { return r.Image })
	data := &exp2Data{
		typeVer: map[string][]string{},
		detVer:  map[string]map[string]bool{},
		byType:  map[string]map[string]exp2Counts{},
		all:     map[string]exp2Counts{},
		cell:    map[string]map[string]map[string]exp2Counts{},
	}
	typeSet, detSet, det2Set := map[string]bool{}, map[string]bool{}, map[string]bool{}
	typeVersions := map[string]map[string]bool{}
	names := sortedKeys(groups.images)
	var grouped warnGroups
	for _, name := range names {
		img := groups.images[name]
		for _, d := range sortedKeys(img.recs) {
			r := img.recs[d]
			detSet[d] = true
			if _, ok := r.Info[InfoVerdict2Plus]; ok {
				det2Set[d] = true
			}
			typeSet[r.Mutation] = true
			if typeVersions[r.Mutation] == nil {
				typeVersions[r.Mutation] = map[string]bool{}
			}
			typeVersions[r.Mutation][r.MutationVersion] = true
		}
		// Ground truth from the alphabetically first detector's record.
		first := img.recs[sortedKeys(img.recs)[0]]
		img.label, img.truth = first.Label, sortedInts(first.MaliciousLayers)
		for _, d := range sortedKeys(img.recs) {
			if r := img.recs[d]; r.Label != img.label || !slices.Equal(sortedInts(r.MaliciousLayers), img.truth) {
				grouped.add(truthDisagrees, fmt.Sprintf("%s: detector %s", name, d))
			}
		}
	}
	data.types, data.dets, data.dets2 = sortedKeys(typeSet), sortedKeys(detSet), sortedKeys(det2Set)
	for _, t := range data.types {
		data.typeVer[t] = sortedKeys(typeVersions[t])
	}
	for _, d := range data.dets {
		data.byType[d] = map[string]exp2Counts{}
		data.detVer[d] = map[string]bool{}
		data.cell[d] = map[string]map[string]exp2Counts{}
	}
	for _, name := range names {
		img := groups.images[name]
		var mutation string
		for _, r := range img.recs {
			mutation = r.Mutation
		}
		for _, d := range data.dets {
			r, ok := img.recs[d]
			switch {
			case !ok:
				grouped.add(fmt.Sprintf("detector %s: no record; counted as not flagged", d), name)
			case r.Error != "":
				grouped.add(fmt.Sprintf("detector %s: scan failed; counted as not flagged", d), fmt.Sprintf("%s: %s", name, r.Error))
			}
			if ok {
				data.detVer[d][r.DetectorVersion] = true
			}
			two := false
			if ok && r.Error == "" && slices.Contains(data.dets2, d) {
				two, _ = verdict2Plus(r.Info[InfoVerdict2Plus])
			}
			c := exp2Tally(img, r, ok, two)
			bt := data.byType[d][mutation]
			bt.add(c)
			data.byType[d][mutation] = bt
			all := data.all[d]
			all.add(c)
			data.all[d] = all
		}
	}
	grouped.flush(warn)
	warnMixedVersions(data.dets, data.detVer, warn)
	return data
}

// Exp3Report derives experiment 3's tables and figures: per payload
// mutation type and detector the detection rate on the malicious cases;
// per type (the paper's and the payload types) the false-positive rate on
// benign images (the drupal web app, case 000, and the benign corpus);
// layer localisation; how often each type applied; and the ablation of the
// hierarchical detector's signals on experiment 2's and 3's images.
func Exp3Report(records, ablation []Record, notApplicable []NotApplicable) (*Report, error) {
	rep := &Report{Title: "Experiment 3: payload mutations, benign controls, signal ablation"}
	warn := rep.warnf
	data := exp3Tally(records, Exp3, warn)
	if len(data.dets) == 0 {
		return nil, fmt.Errorf("no %s records among %d", Exp3, len(records))
	}
	var malTypes []string
	for _, t := range data.types {
		for _, d := range data.dets {
			if data.byType[d][t].pos > 0 {
				malTypes = append(malTypes, t)
				break
			}
		}
	}
	malData := *data
	malData.types = malTypes

	rep.Tables = append(rep.Tables,
		exp3SummaryTable(data),
		exp2ByTypeTable(&malData, "tpr_by_type", "Detection rate (TPR) per payload mutation type",
			"Share of malicious variants (the 7 malicious drupal cases x 5 seeds, where the type applies) each detector flagged, "+
				"with its 95% Clopper-Pearson interval and k/n. \"all types\" pools them.",
			exp2Counts.tpr),
		exp2ByTypeTable(data, "fpr_by_type", "False-positive rate per mutation type (benign controls)",
			"Share of benign variants each detector flagged: every type (the paper's layer mutations and the payload mutations) applied to the 16 benign corpus images "+
				"(one seed each) and the payload types to the benign drupal web app (case 000, 5 seeds), where the type applies. 95% Clopper-Pearson intervals.",
			exp2Counts.fpr),
		exp2LocalisationTable(&malData),
		exp3ApplicabilityTable(records, notApplicable),
		costTable(records, Exp3),
	)
	if len(data.dets2) > 0 {
		rep.Tables = append(rep.Tables, exp2TwoEnginesTable(&malData))
	}
	ablTable, ablFig, err := exp3Ablation(ablation, warn)
	if err != nil {
		return nil, err
	}
	if ablTable != nil {
		rep.Tables = append(rep.Tables, *ablTable)
	}
	figs, err := exp3Figures(&malData, data)
	if err != nil {
		return nil, err
	}
	if ablFig != nil {
		figs = append(figs, *ablFig)
	}
	rep.Figures = figs
	return rep, nil
}

func exp3SummaryTable(data *exp2Data) NamedTable {
	cols := []table.Column{
		{Header: "detector", Key: "detector"},
		{Key: "detector_version", CSVOnly: true},
	}
	cols = append(cols, summaryRateColumns()...)
	t := table.New(cols...)
	for _, d := range data.dets {
		c := data.all[d]
		row := []string{d, strings.Join(sortedKeys(data.detVer[d]), " ")}
		t.Append(append(row, c.summaryRateCells()...)...)
	}
	return NamedTable{
		Name:  "summary",
		Title: "Summary per detector",
		Note: "TPR over every malicious experiment-3 variant (payload mutations of the 7 malicious cases), FPR over every benign variant " +
			"(all types on the benign corpus, payload types on case 000). Layer precision and recall as in experiment 2, given detection. " +
			"95% Clopper-Pearson intervals; incomplete, error and missing verdicts count as not flagged.",
		Table: t,
	}
}

// exp3ApplicabilityTable counts, per type, the variants built (one per
// image, from the records) and the (subject, seed) pairs where the type had
// nothing to change, and names the benign subjects it was applied to.
func exp3ApplicabilityTable(records []Record, nas []NotApplicable) NamedTable {
	type counts struct {
		malBuilt, malNA, benBuilt, benNA int
		benignSubjects                   map[string]bool
	}
	per := map[string]*counts{}
	get := func(t string) *counts {
		if per[t] == nil {
			per[t] = &counts{benignSubjects: map[string]bool{}}
		}
		return per[t]
	}
	seen := map[string]bool{}
	for _, r := range records {
		if r.Experiment != Exp3 || r.Mutation == "" || seen[r.Image] {
			continue
		}
		seen[r.Image] = true
		c := get(r.Mutation)
		if r.Malicious() {
			c.malBuilt++
		} else {
			c.benBuilt++
			c.benignSubjects[r.Case] = true
		}
	}
	for _, na := range nas {
		c := get(na.Mutation)
		if na.Label == LabelMalicious {
			c.malNA++
		} else {
			c.benNA++
		}
	}
	t := table.New(
		table.Column{Header: "mutation type", Key: "mutation"},
		table.Column{Header: "malicious built", Key: "malicious_built", Align: table.Right},
		table.Column{Header: "malicious n/a", Key: "malicious_not_applicable", Align: table.Right},
		table.Column{Header: "benign built", Key: "benign_built", Align: table.Right},
		table.Column{Header: "benign n/a", Key: "benign_not_applicable", Align: table.Right},
		table.Column{Header: "benign images it applied to", Key: "benign_subjects"},
	)
	for _, mt := range sortedKeys(per) {
		c := per[mt]
		subjects := strings.Join(sortedKeys(c.benignSubjects), " ")
		if len(c.benignSubjects) == len(benignSubjectsAll(records)) && len(c.benignSubjects) > 0 {
			subjects = "all"
		}
		t.Append(mt, strconv.Itoa(c.malBuilt), strconv.Itoa(c.malNA), strconv.Itoa(c.benBuilt), strconv.Itoa(c.benNA), subjects)
	}
	return NamedTable{
		Name:  "applicability",
		Title: "Where each mutation type applied",
		Note: "Variants built per type (from records.jsonl), and (subject, seed) pairs skipped because the type had nothing to change " +
			"(say, no file added from the build context for pad-binary; no URL argument for the pool types; from not-applicable.jsonl). " +
			"Benign subjects are the benign corpus images by name and the benign drupal image as 000; \"all\" means every benign subject of the run.",
		Table: t,
	}
}

// benignSubjectsAll is every benign subject (record Case) of experiment 3.
func benignSubjectsAll(records []Record) map[string]bool {
	out := map[string]bool{}
	for _, r := range records {
		if r.Experiment == Exp3 && !r.Malicious() {
			out[r.Case] = true
		}
	}
	return out
}

// exp3Ablation tallies the ablation variants of the hierarchical detector
// (AblationAll, every signal on, among them) over experiment 2's and 3's
// images, all from ablation.jsonl.
func exp3Ablation(ablation []Record, warn func(string, ...any)) (*NamedTable, *NamedFigure, error) {
	if len(ablation) == 0 {
		warn("no ablation records (%s): the ablation table is left out", AblationFile)
		return nil, nil, nil
	}
	exps := []string{Exp2, Exp3}
	tallies := map[string]*exp2Data{}
	for _, e := range exps {
		tallies[e] = exp3TallyAny(ablation, e, warn)
	}
	variantSet := map[string]bool{}
	for _, e := range exps {
		for _, d := range tallies[e].dets {
			variantSet[d] = true
		}
	}
	variants := sortedKeysFunc(variantSet, compareAblation)
	cols := []table.Column{{Header: "variant", Key: "variant"}}
	for _, e := range exps {
		cols = append(cols, rateColumns(e+" TPR", e+"_tpr")...)
		cols = append(cols, rateColumns(e+" FPR", e+"_fpr")...)
	}
	t := table.New(cols...)
	bars := plot.Bars{
		Title:  "Ablation of the hierarchical detector's signals",
		XLabel: "variant",
		YLabel: "detection rate (TPR, 95% CI)",
		Groups: variants,
	}
	series := map[string]*plot.Series{}
	for _, e := range exps {
		series[e] = &plot.Series{Name: e + " TPR"}
	}
	for _, v := range variants {
		row := []string{v}
		for _, e := range exps {
			c := tallies[e].all[v]
			row = append(row, rateCells(c.tpr())...)
			row = append(row, rateCells(c.fpr())...)
			series[e].Rates = append(series[e].Rates, c.tpr())
		}
		t.Append(row...)
	}
	for _, e := range exps {
		bars.Series = append(bars.Series, *series[e])
	}
	fig, err := plot.GroupedBars(bars)
	if err != nil {
		return nil, nil, fmt.Errorf("figure ablation: %w", err)
	}
	return &NamedTable{
			Name:  "ablation",
			Title: "Ablation: each signal off, each signal alone",
			Note: "The hierarchical detector with all signals (" + AblationAll + "), with one signal switched off (without-X) and with one signal alone (only-X), " +
				"on the same images: experiment 2's 400 variants (benign: case 000) and experiment 3's variants (benign: the controls). " +
				"A signal's contribution is the drop from " + AblationAll + " to without-X; only-X shows what it finds by itself. " +
				"Threshold and weights are those of the full detector. 95% Clopper-Pearson intervals.",
			Table: t,
		}, &NamedFigure{
			Name:   "ablation",
			Title:  "Ablation of the hierarchical detector's signals",
			Note:   "TPR of each variant on experiment 2's and experiment 3's malicious images (table ablation), 95% Clopper-Pearson intervals.",
			Figure: fig,
		}, nil
}

// compareAblation orders the full detector first, then without-X, then
// only-X, each by signal.
func compareAblation(a, b string) int {
	rank := func(s string) int {
		switch {
		case s == AblationAll:
			return 0
		case strings.HasPrefix(s, AblationWithout):
			return 1
		case strings.HasPrefix(s, AblationOnly):
			return 2
		}
		return 3
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

func exp3Figures(mal, all *exp2Data) ([]NamedFigure, error) {
	if len(mal.types) == 0 {
		return nil, nil
	}
	tprFig, err := typeBars(mal, "Detection rate per payload mutation type (malicious variants)", "detection rate (TPR, 95% CI)", exp2Counts.tpr)
	if err != nil {
		return nil, fmt.Errorf("figure detection_by_type: %w", err)
	}
	fprFig, err := typeBars(all, "False-positive rate per mutation type (benign controls)", "false-positive rate (FPR, 95% CI)", exp2Counts.fpr)
	if err != nil {
		return nil, fmt.Errorf("figure fpr_by_type: %w", err)
	}
	return []NamedFigure{
		{Name: "detection_by_type", Title: "Detection rate per payload mutation type",
			Note:   "One group per payload mutation type, one bar per detector: the share of malicious variants flagged, 95% Clopper-Pearson intervals (table tpr_by_type).",
			Figure: tprFig},
		{Name: "fpr_by_type", Title: "False-positive rate per mutation type on benign controls",
			Note:   "Every mutation type applied to benign images; the share flagged per detector, 95% Clopper-Pearson intervals (table fpr_by_type).",
			Figure: fprFig},
	}, nil
}
