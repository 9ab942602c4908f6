package experiments

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/stats"
)

// exp2Experiment is the Experiment field of exp2 records (the same string as
// Exp2; the report keeps its own name for it, as Exp1Name does for exp1).
const exp2Experiment = "exp2"

// exp2PaperTypes is the number of mutation types in the paper's design
// (PaperReference, Experiment 2: 8 cases x 10 types x 5 samples).
const exp2PaperTypes = 10

// exp2Paper is the detection rate the paper (PaperReference, Experiment 2)
// reports for the product whose method each of our detectors re-implements; see exp1Paper
// for the mapping. The paper does not say which images its rates count.
var exp2Paper = map[string]string{
	"digest-image": "Docker Scout 20%",
	"digest-layer": "Docker Scout 20%",
	"multiengine":  "VirusTotal 71.4%",
	"hierarchical": "proposed 100%",
}

// InfoVerdict2Plus is the Info key under which the multi-engine baseline
// records its verdict when at least two engines must fire, the stricter
// rule reported beside "any engine" because one engine's false positive is
// enough to flag an image under "any engine". The baseline writes a
// decision ("malicious", "clean", "incomplete"); "true" and "false" are
// read too.
const InfoVerdict2Plus = "verdict_2plus"

// verdict2Plus reads an InfoVerdict2Plus value: whether at least two engines
// fired, and whether the value was understood.
func verdict2Plus(v string) (two, ok bool) {
	switch v {
	case "true", string(detectors.Malicious):
		return true, true
	case "false", string(detectors.Clean), string(detectors.Incomplete):
		return false, true
	}
	return false, false
}

// Exp2Option configures Exp2Report.
type Exp2Option func(*exp2Config)

type exp2Config struct {
	mutations []string
}

// WithMutations gives the report the mutation registry's type names. Types
// in the records that the registry does not know are then listed in a
// warning, and so are registered types without records. The tables always
// show the types found in the records, sorted; without this option the
// report only warns when their number differs from the paper's 10.
func WithMutations(names []string) Exp2Option {
	return func(c *exp2Config) { c.mutations = slices.Clone(names) }
}

// Exp2ReportFile reads records.jsonl at path and builds the exp2 report; a
// partial last line becomes the report's first warning.
func Exp2ReportFile(path string, opts ...Exp2Option) (*Report, error) {
	return reportFile(path, func(recs []Record) (*Report, error) { return Exp2Report(recs, opts...) })
}

// exp2Variant identifies one polymorphic variant: a case's image mutated by
// one type with one seed.
type exp2Variant struct {
	c        string
	mutation string
	seed     int64
}

func (v exp2Variant) String() string {
	return fmt.Sprintf("%s/%s/seed %d", v.c, v.mutation, v.seed)
}

func compareVariants(a, b exp2Variant) int {
	return cmp.Or(strings.Compare(a.mutation, b.mutation), strings.Compare(a.c, b.c), cmp.Compare(a.seed, b.seed))
}

// exp2Counts tallies one detector's verdicts over a set of variants.
type exp2Counts struct {
	images, detected int // every variant, and those flagged (the paper's way of counting)
	pos, tp          int // malicious variants, and those flagged
	neg, fp          int // benign variants, and those flagged
	// Layer localisation over flagged malicious variants: blamed layers that
	// are malicious, all blamed layers, all malicious layers.
	hits, blamed, truth int
	// The >=2 engines verdict on malicious and benign variants.
	tp2, fp2 int
}

func (c *exp2Counts) add(o exp2Counts) {
	c.images += o.images
	c.detected += o.detected
	c.pos += o.pos
	c.tp += o.tp
	c.neg += o.neg
	c.fp += o.fp
	c.hits += o.hits
	c.blamed += o.blamed
	c.truth += o.truth
	c.tp2 += o.tp2
	c.fp2 += o.fp2
}

func (c exp2Counts) tpr() stats.Rate       { return stats.ClopperPearson(c.tp, c.pos, confidence) }
func (c exp2Counts) fpr() stats.Rate       { return stats.ClopperPearson(c.fp, c.neg, confidence) }
func (c exp2Counts) precision() stats.Rate { return stats.ClopperPearson(c.hits, c.blamed, confidence) }
func (c exp2Counts) recall() stats.Rate    { return stats.ClopperPearson(c.hits, c.truth, confidence) }
func (c exp2Counts) tpr2() stats.Rate      { return stats.ClopperPearson(c.tp2, c.pos, confidence) }
func (c exp2Counts) fpr2() stats.Rate      { return stats.ClopperPearson(c.fp2, c.neg, confidence) }

// exp2Data is everything the exp2 tables and figures are drawn from.
type exp2Data struct {
	types   []string // mutation types found, sorted
	dets    []string // detectors found, sorted
	dets2   []string // detectors that record InfoVerdict2Plus, sorted
	typeVer map[string][]string
	detVer  map[string]map[string]bool
	// byType[d][t] and all[d] tally detector d over type t and over all.
	byType map[string]map[string]exp2Counts
	all    map[string]exp2Counts
	// cell[d][t][c] tallies detector d over the variants of case c and type t.
	cell map[string]map[string]map[string]exp2Counts
}

// counts is detector d's tally over mutation type mt, or over all types
// when mt is allTypes.
func (data *exp2Data) counts(d, mt string) exp2Counts {
	if mt == allTypes {
		return data.all[d]
	}
	return data.byType[d][mt]
}

// Exp2Report derives the exp2 tables and figures from records: detection
// rate per mutation type and detector (the paper's Figure 2), overall rates
// beside the paper's, false-positive rates on the benign case, layer
// localisation, the multi-engine ">=2 engines" verdict when recorded, and
// per-case counts. Mutation types are taken from the records, sorted.
//
// Records of other experiments or without a mutation are skipped, a
// repeated (image, detector) pair counts its last record, and a variant
// (case, type, seed) recorded under more than one image uses the image
// recorded last; each of these is reported in Warnings, as are variants and
// detector records that are missing, failed scans and mixed versions. It
// fails only when no exp2 record is left.
func Exp2Report(records []Record, opts ...Exp2Option) (*Report, error) {
	var cfg exp2Config
	for _, o := range opts {
		o(&cfg)
	}
	rep := &Report{Title: "Experiment 2: polymorphic variants (cases x mutation types x seeds)"}
	warn := rep.warnf

	last := selectLast(records, func(r Record) string {
		switch {
		case r.Experiment != exp2Experiment:
			return fmt.Sprintf("experiment %q", r.Experiment)
		case !slices.Contains(exp1Cases(), r.Case):
			return fmt.Sprintf("case %q (not 3 bits)", r.Case)
		case r.Mutation == "":
			return "no mutation (exp2 images are mutated)"
		}
		return ""
	}, warn)
	groups := groupImages(records, last, func(r Record) exp2Variant {
		return exp2Variant{c: r.Case, mutation: r.Mutation, seed: r.Seed}
	})
	if len(groups.unitImage) == 0 {
		return nil, fmt.Errorf("no %s records among %d", exp2Experiment, len(records))
	}

	variants := sortedKeysFunc(groups.unitImage, compareVariants)
	typeSet, seedSet, detSet, det2Set := map[string]bool{}, map[int64]bool{}, map[string]bool{}, map[string]bool{}
	typeVersions := map[string]map[string]bool{}
	var grouped warnGroups
	byVariant := map[exp2Variant]*reportImage{}
	for _, v := range variants {
		typeSet[v.mutation] = true
		seedSet[v.seed] = true
		name := groups.unitImage[v]
		if n := len(groups.allImages[v]); n > 1 {
			grouped.add("variants recorded under more than one image; using the image recorded last",
				fmt.Sprintf("%s: %s", v, strings.Join(sortedKeys(groups.allImages[v]), ", ")))
		}
		img := groups.images[name]
		groundTruth(v.c, img, func(kind, detail string) {
			grouped.add(kind, fmt.Sprintf("%s (%s): %s", v, img.name, detail))
		})
		byVariant[v] = img
		for _, d := range sortedKeys(img.recs) {
			r := img.recs[d]
			detSet[d] = true
			if _, ok := r.Info[InfoVerdict2Plus]; ok {
				det2Set[d] = true
			}
			if typeVersions[v.mutation] == nil {
				typeVersions[v.mutation] = map[string]bool{}
			}
			typeVersions[v.mutation][r.MutationVersion] = true
		}
	}
	data := &exp2Data{
		types:   sortedKeys(typeSet),
		dets:    sortedKeys(detSet),
		dets2:   sortedKeys(det2Set),
		typeVer: map[string][]string{},
		detVer:  map[string]map[string]bool{},
		byType:  map[string]map[string]exp2Counts{},
		all:     map[string]exp2Counts{},
		cell:    map[string]map[string]map[string]exp2Counts{},
	}
	seeds := sortedKeysFunc(seedSet, cmp.Compare[int64])
	exp2CheckTypes(data.types, cfg.mutations, warn)
	for _, t := range data.types {
		data.typeVer[t] = sortedKeys(typeVersions[t])
		if vs := data.typeVer[t]; len(vs) > 1 {
			warn("mutation %s: variants from %d versions (%s) mixed in one table", t, len(vs), strings.Join(vs, ", "))
		}
	}
	// Every type is expected for every case and every seed found.
	var missing []string
	for _, t := range data.types {
		for _, c := range exp1Cases() {
			for _, s := range seeds {
				if v := (exp2Variant{c, t, s}); byVariant[v] == nil {
					missing = append(missing, v.String())
				}
			}
		}
	}
	if len(missing) > 0 {
		shown := missing[:min(len(missing), maxExamples)]
		more := ""
		if len(missing) > len(shown) {
			more = fmt.Sprintf("; and %d more", len(missing)-len(shown))
		}
		warn("%d of %d variants (8 cases x %d types x %d seeds) have no records; rates count the variants present: %s%s",
			len(missing), 8*len(data.types)*len(seeds), len(data.types), len(seeds), strings.Join(shown, "; "), more)
	}

	for _, d := range data.dets {
		data.byType[d] = map[string]exp2Counts{}
		data.cell[d] = map[string]map[string]exp2Counts{}
		data.detVer[d] = map[string]bool{}
		for _, t := range data.types {
			data.cell[d][t] = map[string]exp2Counts{}
		}
	}
	for _, v := range variants {
		img := byVariant[v]
		for _, d := range data.dets {
			r, ok := img.recs[d]
			switch {
			case !ok:
				grouped.add(fmt.Sprintf("detector %s: no record; counted as not flagged", d), v.String())
			case r.Error != "":
				grouped.add(fmt.Sprintf("detector %s: scan failed; counted as not flagged", d), fmt.Sprintf("%s: %s", v, r.Error))
			case !knownDecision(r.Decision):
				grouped.add(fmt.Sprintf("detector %s: unknown decision; counted as not flagged", d), fmt.Sprintf("%s: %q", v, r.Decision))
			}
			if ok {
				data.detVer[d][r.DetectorVersion] = true
			}
			two := false
			if slices.Contains(data.dets2, d) && ok && r.Error == "" {
				var understood bool
				if two, understood = verdict2Plus(r.Info[InfoVerdict2Plus]); !understood {
					grouped.add(fmt.Sprintf("detector %s: info.%s missing or not a decision; counted as fewer than 2 engines", d, InfoVerdict2Plus),
						fmt.Sprintf("%s: %q", v, r.Info[InfoVerdict2Plus]))
				}
			}
			c := exp2Tally(img, r, ok, two)
			bt := data.byType[d][v.mutation]
			bt.add(c)
			data.byType[d][v.mutation] = bt
			all := data.all[d]
			all.add(c)
			data.all[d] = all
			cc := data.cell[d][v.mutation][v.c]
			cc.add(c)
			data.cell[d][v.mutation][v.c] = cc
		}
	}
	grouped.flush(warn)
	warnMixedVersions(data.dets, data.detVer, warn)

	rep.Tables = append(rep.Tables,
		exp2SummaryTable(data),
		exp2ByTypeTable(data, "tpr_by_type", "Detection rate (TPR) per mutation type",
			"Share of malicious variants (cases other than 000, all seeds) each detector flagged, with its 95% Clopper-Pearson interval and k/n. "+
				"This is the data of the paper's Figure 2 (bar chart per mutation condition, values not printed in the paper) and of the figure detection_by_type.",
			exp2Counts.tpr),
		exp2ByTypeTable(data, "fpr_by_type", "False-positive rate per mutation type (benign case 000)",
			"Share of benign variants (case 000: base and benign layers only, mutated) each detector flagged, with its 95% Clopper-Pearson interval and k/n. "+
				"The paper measures no false-positive rate.",
			exp2Counts.fpr),
		exp2LocalisationTable(data),
		costTable(records, Exp2),
	)
	if len(data.dets2) > 0 {
		rep.Tables = append(rep.Tables, exp2TwoEnginesTable(data))
	}
	for _, d := range data.dets {
		rep.Tables = append(rep.Tables, exp2CaseTable(data, d))
	}
	figs, err := exp2Figures(data)
	if err != nil {
		return nil, err
	}
	rep.Figures = figs
	return rep, nil
}

// exp2Tally counts one detector's record r (ok: it exists) for img; two is
// the >=2 engines verdict.
func exp2Tally(img *reportImage, r Record, ok, two bool) exp2Counts {
	f := flagged(r, ok)
	c := exp2Counts{images: 1}
	if f {
		c.detected = 1
	}
	switch img.label {
	case LabelMalicious:
		c.pos = 1
		if f {
			c.tp = 1
			// Localisation is scored given detection: a miss counts against
			// TPR, not here, and a clean verdict accuses no layer.
			blamed := sortedInts(r.BlamedLayers)
			c.hits = countCommon(blamed, img.truth)
			c.blamed = len(blamed)
			c.truth = len(img.truth)
		}
		if two {
			c.tp2 = 1
		}
	case LabelBenign:
		c.neg = 1
		if f {
			c.fp = 1
		}
		if two {
			c.fp2 = 1
		}
	}
	return c
}

// exp2CheckTypes warns about mutation types the registry does not know and
// registered types without records, or, without a registry, about a number
// of types other than the paper's.
func exp2CheckTypes(types, registry []string, warn func(string, ...any)) {
	if registry == nil {
		if len(types) != exp2PaperTypes {
			warn("records hold %d mutation types (%s); the paper's design has %d", len(types), strings.Join(types, ", "), exp2PaperTypes)
		}
		return
	}
	var unknown, absent []string
	for _, t := range types {
		if !slices.Contains(registry, t) {
			unknown = append(unknown, t)
		}
	}
	for _, t := range registry {
		if !slices.Contains(types, t) {
			absent = append(absent, t)
		}
	}
	slices.Sort(absent)
	absent = slices.Compact(absent)
	if len(unknown) > 0 {
		warn("records name %d mutation type(s) the registry does not know: %s; shown as recorded", len(unknown), strings.Join(unknown, ", "))
	}
	if len(absent) > 0 {
		warn("%d registered mutation type(s) have no records: %s", len(absent), strings.Join(absent, ", "))
	}
}
