package experiments

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// Exp1Name is the Experiment field of exp1 records.
const Exp1Name = "exp1"

// confidence is the level of every interval in the reports (DESIGN.md:
// "Every rate has a 95% confidence interval").
const confidence = 0.95

// exp1Paper is the detection rate PAPER.md (Experiment 1) reports for the
// product whose method each of our detectors re-implements. The paper's
// figures are "of 8": 87% is 7/8, counting the (0,0,0) case. Both digest
// detectors stand in for Docker Scout, the multi-engine scanner for
// VirusTotal, the hierarchical detector for the paper's proposed method.
var exp1Paper = map[string]string{
	"digest-image": "Docker Scout 87%",
	"digest-layer": "Docker Scout 87%",
	"multiengine":  "VirusTotal 100%",
	"hierarchical": "proposed 100%",
}

// exp1Cases lists the 8 layer-presence cases in bit order; the bits are the
// presence of layers 8, 9 and 10.
func exp1Cases() []string {
	cases := make([]string, 8)
	for i := range cases {
		cases[i] = fmt.Sprintf("%03b", i)
	}
	return cases
}

// benignCase is the case with no malicious layer, which the paper
// nevertheless counts among the 8 to detect.
const benignCase = "000"

// Exp1ReportFile reads records.jsonl at path and builds the exp1 report; a
// partial last line becomes the report's first warning.
func Exp1ReportFile(path string) (*Report, error) {
	recs, warns, err := readRecordsWarn(path)
	if err != nil {
		return nil, err
	}
	rep, err := Exp1Report(recs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rep.Warnings = append(warns, rep.Warnings...)
	return rep, nil
}

// exp1Image is one case's image with the record each detector left for it.
type exp1Image struct {
	name  string
	label string
	truth []int // ground-truth malicious layer indices
	recs  map[string]Record
}

// Exp1Report derives the exp1 tables from records: per-case verdicts and a
// per-detector summary. Records of other experiments are skipped, a repeated
// (image, detector) pair counts its last record, and a case recorded under
// more than one image uses the image recorded last; each of these is
// reported in Warnings. It fails only when no exp1 record is left.
func Exp1Report(records []Record) (*Report, error) {
	rep := &Report{Title: "Experiment 1: layer presence (8 cases)"}
	warn := func(format string, args ...any) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...))
	}

	// Select exp1 records, keeping the last record of each (image, detector).
	type key struct{ image, detector string }
	skipped := map[string]int{}
	count := map[key]int{}
	last := map[key]int{}
	for i, r := range records {
		switch {
		case r.Experiment != Exp1Name:
			skipped[fmt.Sprintf("experiment %q", r.Experiment)]++
			continue
		case !slices.Contains(exp1Cases(), r.Case):
			skipped[fmt.Sprintf("case %q (not 3 bits)", r.Case)]++
			continue
		case r.Mutation != "":
			skipped[fmt.Sprintf("mutation %q (exp1 images are unmutated)", r.Mutation)]++
			continue
		}
		if r.Schema != RecordSchema {
			warn("record %s/%s has schema %d, this report reads schema %d; fields may have changed meaning",
				r.Image, r.Detector, r.Schema, RecordSchema)
		}
		k := key{r.Image, r.Detector}
		count[k]++
		last[k] = i
	}
	for _, what := range sortedKeys(skipped) {
		warn("skipped %d record(s) with %s", skipped[what], what)
	}
	for _, k := range sortedKeysFunc(count, func(a, b key) int {
		return strings.Compare(a.image+"\x00"+a.detector, b.image+"\x00"+b.detector)
	}) {
		if count[k] > 1 {
			warn("%s, detector %s: %d records (a repeated run); using the last one", k.image, k.detector, count[k])
		}
	}

	// Walk the kept records in file order, so "recorded last" decides which
	// image a case uses.
	images := map[string]*exp1Image{}
	caseImage := map[string]string{}
	caseImages := map[string]map[string]bool{}
	for i, r := range records {
		k := key{r.Image, r.Detector}
		if j, ok := last[k]; !ok || j != i {
			continue
		}
		img := images[r.Image]
		if img == nil {
			img = &exp1Image{name: r.Image, recs: map[string]Record{}}
			images[r.Image] = img
		}
		img.recs[r.Detector] = r
		caseImage[r.Case] = r.Image
		if caseImages[r.Case] == nil {
			caseImages[r.Case] = map[string]bool{}
		}
		caseImages[r.Case][r.Image] = true
	}
	if len(caseImage) == 0 {
		return nil, fmt.Errorf("no %s records among %d", Exp1Name, len(records))
	}

	byCase := map[string]*exp1Image{}
	detectorSet := map[string]bool{}
	for _, c := range exp1Cases() {
		name, ok := caseImage[c]
		if !ok {
			warn("case %s: no records", c)
			continue
		}
		if n := len(caseImages[c]); n > 1 {
			warn("case %s: records for %d images (%s); using %s, recorded last",
				c, n, strings.Join(sortedKeys(caseImages[c]), ", "), name)
		}
		img := images[name]
		groundTruth(c, img, warn)
		byCase[c] = img
		for d := range img.recs {
			detectorSet[d] = true
		}
	}
	dets := sortedKeys(detectorSet)

	versions := map[string]map[string]bool{}
	for _, c := range exp1Cases() {
		img := byCase[c]
		for _, d := range dets {
			if img == nil {
				continue
			}
			r, ok := img.recs[d]
			if !ok {
				warn("case %s (%s), detector %s: no record; shown as missing, counted as not flagged", c, img.name, d)
				continue
			}
			if versions[d] == nil {
				versions[d] = map[string]bool{}
			}
			versions[d][r.DetectorVersion] = true
			switch {
			case r.Error != "":
				warn("case %s (%s), detector %s: scan failed: %s; counted as not flagged", c, img.name, d, r.Error)
			case !knownDecision(r.Decision):
				warn("case %s (%s), detector %s: unknown decision %q; counted as not flagged", c, img.name, d, r.Decision)
			}
		}
	}
	for _, d := range dets {
		if vs := sortedKeys(versions[d]); len(vs) > 1 {
			warn("detector %s: records from %d versions (%s) mixed in one table", d, len(vs), strings.Join(vs, ", "))
		}
	}

	rep.Tables = append(rep.Tables, exp1CaseTable(byCase, dets), exp1SummaryTable(byCase, dets, versions))
	return rep, nil
}

// groundTruth fills img's label and malicious layers from its records and
// warns when they disagree with each other or with the case bits.
func groundTruth(c string, img *exp1Image, warn func(string, ...any)) {
	var first string
	for _, d := range sortedKeys(img.recs) {
		r := img.recs[d]
		if first == "" {
			first = d
			img.label, img.truth = r.Label, sortedInts(r.MaliciousLayers)
			continue
		}
		if r.Label != img.label || !slices.Equal(sortedInts(r.MaliciousLayers), img.truth) {
			warn("case %s (%s): detector %s's record says %s %s, %s's says %s %s; using %s's",
				c, img.name, d, r.Label, layerList(sortedInts(r.MaliciousLayers)), first, img.label, layerList(img.truth), first)
		}
	}
	switch {
	case img.label != LabelMalicious && img.label != LabelBenign:
		warn("case %s (%s): label %q is neither %q nor %q; not counted as malicious", c, img.name, img.label, LabelMalicious, LabelBenign)
	case (c == benignCase) != (img.label == LabelBenign):
		warn("case %s (%s): labelled %s although the case bits say otherwise; the label is used", c, img.name, img.label)
	}
}

func knownDecision(d detectors.Decision) bool {
	return d == detectors.Clean || d == detectors.Malicious || d == detectors.Incomplete
}

// verdict is what a table cell says about one record: "flagged", "clean",
// "incomplete", "error", "missing" or an unknown decision as recorded.
func verdict(r Record, ok bool) string {
	switch {
	case !ok:
		return "missing"
	case r.Error != "":
		return "error"
	case r.Decision == detectors.Malicious:
		return "flagged"
	case r.Decision == "":
		return "unknown"
	}
	return string(r.Decision)
}

// flagged counts a record as a detection. Errors and missing records are
// misses: a scan that did not finish detected nothing.
func flagged(r Record, ok bool) bool { return ok && r.Error == "" && r.Flagged() }

func exp1CaseTable(byCase map[string]*exp1Image, dets []string) NamedTable {
	cols := []table.Column{
		{Header: "case", Key: "case"},
		{Header: "label", Key: "label"},
		{Header: "malicious layers", Key: "malicious_layers"},
	}
	for _, d := range dets {
		cols = append(cols, table.Column{Header: d, Key: d})
	}
	for _, d := range dets {
		cols = append(cols,
			table.Column{Key: d + "_decision", CSVOnly: true},
			table.Column{Key: d + "_blamed_layers", CSVOnly: true})
	}
	t := table.New(cols...)
	for _, c := range exp1Cases() {
		img := byCase[c]
		if img == nil {
			row := []string{c, "missing", "missing"}
			for range dets {
				row = append(row, "missing")
			}
			for range dets {
				row = append(row, "missing", "")
			}
			t.Append(row...)
			continue
		}
		row := []string{c, img.label, layerList(img.truth)}
		var raw []string
		for _, d := range dets {
			r, ok := img.recs[d]
			cell := verdict(r, ok)
			blamed := sortedInts(r.BlamedLayers)
			if ok && len(blamed) > 0 {
				cell += " [" + joinLayers(blamed, ",") + "]"
			}
			row = append(row, cell)
			raw = append(raw, verdict(r, ok), joinLayers(blamed, " "))
		}
		t.Append(append(row, raw...)...)
	}
	return NamedTable{
		Name:  "cases",
		Title: "Per-case verdicts",
		Note: "Case bits give the presence of layers 8, 9 and 10 (PAPER.md, Experiment 1). " +
			"Layer numbers are indices in the built image (0 = bottom), so an absent malicious layer shifts the ones above it down. " +
			"[...] lists the layers a detector blamed.",
		Table: t,
	}
}

func exp1SummaryTable(byCase map[string]*exp1Image, dets []string, versions map[string]map[string]bool) NamedTable {
	rateCols := func(header, key string) []table.Column {
		return []table.Column{
			{Header: header, Key: key},
			{Key: key + "_k", CSVOnly: true},
			{Key: key + "_n", CSVOnly: true},
			{Key: key + "_p", CSVOnly: true},
			{Key: key + "_lo", CSVOnly: true},
			{Key: key + "_hi", CSVOnly: true},
		}
	}
	cols := []table.Column{
		{Header: "detector", Key: "detector"},
		{Key: "detector_version", CSVOnly: true},
		{Header: "paper", Key: "paper"},
		{Header: "detected", Key: "detected_of_8"},
		{Key: "detected_k", CSVOnly: true},
		{Key: "cases_n", CSVOnly: true},
	}
	cols = append(cols, rateCols("TPR", "tpr")...)
	cols = append(cols, table.Column{Header: "case 000", Key: "case_000"})
	cols = append(cols, rateCols("layer precision", "layer_precision")...)
	cols = append(cols, rateCols("layer recall", "layer_recall")...)
	t := table.New(cols...)

	for _, d := range dets {
		var detected, cases, tp, pos, hits, blamedN, truthN int
		benign := "missing"
		for _, c := range exp1Cases() {
			img := byCase[c]
			if img == nil {
				continue
			}
			r, ok := img.recs[d]
			cases++
			f := flagged(r, ok)
			if f {
				detected++
			}
			if c == benignCase {
				benign = benignVerdict(r, ok)
			}
			if img.label != LabelMalicious {
				continue
			}
			pos++
			if f {
				tp++
			}
			// Only a detection accuses layers: a detector that said clean
			// has blamed nothing, whatever low-weight findings it kept.
			var blamed []int
			if f {
				blamed = sortedInts(r.BlamedLayers)
			}
			hits += countCommon(blamed, img.truth)
			blamedN += len(blamed)
			truthN += len(img.truth)
		}
		paper, ok := exp1Paper[d]
		if !ok {
			paper = "n/a (not in paper)"
		}
		row := []string{d, strings.Join(sortedKeys(versions[d]), " "), paper,
			fmt.Sprintf("%d/%d (%s)", detected, cases, percent(detected, cases)),
			strconv.Itoa(detected), strconv.Itoa(cases)}
		row = append(row, rateCells(stats.ClopperPearson(tp, pos, confidence))...)
		row = append(row, benign)
		row = append(row, rateCells(stats.ClopperPearson(hits, blamedN, confidence))...)
		row = append(row, rateCells(stats.ClopperPearson(hits, truthN, confidence))...)
		t.Append(row...)
	}
	return NamedTable{
		Name:  "summary",
		Title: "Summary per detector",
		Note: "\"paper\" is the rate PAPER.md reports, of 8 cases, for the product whose method the detector re-implements " +
			"(digest-image and digest-layer: Docker Scout; multiengine: VirusTotal; hierarchical: the proposed method). " +
			"\"detected\" counts flagged images among all 8 cases, (0,0,0) included, the way the paper counts. " +
			"TPR counts only the malicious cases. Every [lo–hi] is a 95% Clopper-Pearson interval. " +
			"\"case 000\" is the verdict on the image with no malicious layer: flagged is a false positive (FP), clean a true negative (TN). " +
			"Layer precision and recall compare the layers blamed by flagged verdicts with the ground-truth malicious layers, " +
			"micro-averaged over malicious images; the layers of one image are not independent, so read their intervals as optimistic. " +
			"Incomplete, error and missing verdicts count as not flagged.",
		Table: t,
	}
}

func benignVerdict(r Record, ok bool) string {
	v := verdict(r, ok)
	switch v {
	case "flagged":
		return "flagged (FP)"
	case "clean":
		return "clean (TN)"
	}
	return v
}

// rateCells is a rate's display cell followed by its k, n, p, lo, hi.
func rateCells(r stats.Rate) []string {
	return []string{r.String(), strconv.Itoa(r.K), strconv.Itoa(r.N), ftoa(r.P), ftoa(r.Lo), ftoa(r.Hi)}
}

func ftoa(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}

func percent(k, n int) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(k)/float64(n))
}

func layerList(layers []int) string {
	if len(layers) == 0 {
		return "none"
	}
	return joinLayers(layers, ",")
}

func joinLayers(xs []int, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, sep)
}

// sortedInts returns a sorted copy without duplicates; records promise sorted
// layer lists, but a report should not depend on every writer keeping it.
func sortedInts(xs []int) []int {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// countCommon counts the values in both sorted, duplicate-free lists.
func countCommon(a, b []int) int {
	n := 0
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			n++
		}
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	return sortedKeysFunc(m, strings.Compare)
}

func sortedKeysFunc[K comparable, V any](m map[K]V, cmp func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp)
	return keys
}
