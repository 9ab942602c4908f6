package experiments

// Helpers shared by the experiment reports (report_exp1.go, report_exp2.go):
// record selection, ground truth, cell formatting and rate columns.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// confidence is the level of every interval in the reports: every rate is
// given with its 95% confidence interval.
const confidence = 0.95

// PaperReference is the public reference of the paper whose experiments
// strata reproduces; reports cite it, with the experiment, wherever they
// compare with a figure of the paper.
const PaperReference = `Ryu, J.-H. and Lee, I.-G., "Hierarchical vulnerability detection technique robust against polymorphic Docker image attacks", Sungshin Women's University`

// paperCite cites the paper in a report's text, next to the experiment it
// means ("Experiment 1 of the paper (Ryu and Lee)"); each report that
// compares with the paper also prints PaperReference once.
const paperCite = "the paper (Ryu and Lee)"

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

// joinLayers writes layer indices separated by sep: report cells, and the
// store's AnnMaliciousLayers annotation (sep ",").
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

// rateColumns is a rate's display column followed by its CSV-only k, n, p,
// lo, hi columns, matching rateCells.
func rateColumns(header, key string) []table.Column {
	return []table.Column{
		{Header: header, Key: key},
		{Key: key + "_k", CSVOnly: true},
		{Key: key + "_n", CSVOnly: true},
		{Key: key + "_p", CSVOnly: true},
		{Key: key + "_lo", CSVOnly: true},
		{Key: key + "_hi", CSVOnly: true},
	}
}

// recordKey identifies what one record is about: one scan of one image.
type recordKey struct{ image, detector string }

func compareRecordKeys(a, b recordKey) int {
	return strings.Compare(a.image+"\x00"+a.detector, b.image+"\x00"+b.detector)
}

// selectLast returns, for every (image, detector) pair among the records
// skip lets through (it returns "" to keep a record, or what makes it not
// belong), the index of the pair's last record: a repeated run replaces the
// earlier one. It warns about skipped records, records of another schema
// and repeated pairs.
func selectLast(records []Record, skip func(Record) string, warn func(string, ...any)) map[recordKey]int {
	skipped := map[string]int{}
	count := map[recordKey]int{}
	last := map[recordKey]int{}
	schemas := map[int]int{}
	firstOfSchema := map[int]recordKey{}
	for i, r := range records {
		if why := skip(r); why != "" {
			skipped[why]++
			continue
		}
		k := recordKey{r.Image, r.Detector}
		if r.Schema != RecordSchema {
			if schemas[r.Schema] == 0 {
				firstOfSchema[r.Schema] = k
			}
			schemas[r.Schema]++
		}
		count[k]++
		last[k] = i
	}
	for _, s := range sortedKeysFunc(schemas, func(a, b int) int { return a - b }) {
		k := firstOfSchema[s]
		warn("%d record(s) have schema %d (first: %s/%s), this report reads schema %d; fields may have changed meaning",
			schemas[s], s, k.image, k.detector, RecordSchema)
	}
	for _, what := range sortedKeys(skipped) {
		warn("skipped %d record(s) with %s", skipped[what], what)
	}
	// One warning for all repeated pairs, with the first as an example:
	// a run appended twice repeats every pair, and one line each would
	// bury the report.
	var repeated []recordKey
	for _, k := range sortedKeysFunc(count, compareRecordKeys) {
		if count[k] > 1 {
			repeated = append(repeated, k)
		}
	}
	if len(repeated) > 0 {
		k := repeated[0]
		warn("%d (image, detector) pair(s) recorded more than once (a repeated run; the last record of each is used), e.g. %s, detector %s: %d records",
			len(repeated), k.image, k.detector, count[k])
	}
	// A combined verdict whose sandbox run failed is the static verdict
	// (incomplete below the threshold): say how many, so a table of a
	// run where the sandbox could not work is not read as its result.
	var notRun []recordKey
	for _, k := range sortedKeysFunc(last, compareRecordKeys) {
		if slices.ContainsFunc(records[last[k]].Findings, hierarchical.IsDynamicNotRun) {
			notRun = append(notRun, k)
		}
	}
	if len(notRun) > 0 {
		k := notRun[0]
		warn("%d record(s) of a detector with the sandbox stage whose run failed (%s: the static verdict stands, incomplete below the threshold), e.g. %s, detector %s",
			len(notRun), hierarchical.DynamicNotRun, k.image, k.detector)
	}
	return last
}

// reportImage is one built image with the record each detector left for it
// and its ground truth.
type reportImage struct {
	name  string
	label string
	truth []int // ground-truth malicious layer indices, sorted
	recs  map[string]Record
}

// imageGroups is what groupImages finds: every image with its kept records,
// and for each unit (a case in exp1, a variant in exp2) the image recorded
// last and every image recorded for it.
type imageGroups[U comparable] struct {
	images    map[string]*reportImage
	unitImage map[U]string
	allImages map[U]map[string]bool
}

// groupImages walks the kept records (see selectLast) in file order, so that
// "recorded last" decides which image a unit uses when a unit was built more
// than once.
func groupImages[U comparable](records []Record, last map[recordKey]int, unit func(Record) U) imageGroups[U] {
	g := imageGroups[U]{images: map[string]*reportImage{}, unitImage: map[U]string{}, allImages: map[U]map[string]bool{}}
	for i, r := range records {
		if j, ok := last[recordKey{r.Image, r.Detector}]; !ok || j != i {
			continue
		}
		img := g.images[r.Image]
		if img == nil {
			img = &reportImage{name: r.Image, recs: map[string]Record{}}
			g.images[r.Image] = img
		}
		img.recs[r.Detector] = r
		u := unit(r)
		g.unitImage[u] = r.Image
		if g.allImages[u] == nil {
			g.allImages[u] = map[string]bool{}
		}
		g.allImages[u][r.Image] = true
	}
	return g
}

// Kinds of ground-truth problems groundTruth reports.
const (
	truthDisagrees   = "records disagree on the ground truth"
	truthBadLabel    = "label is neither malicious nor benign; not counted as malicious"
	truthContradicts = "label contradicts the case bits; the label is used"
)

// groundTruth fills img's label and malicious layers from its records (the
// alphabetically first detector's record wins) and reports, as a kind above
// and a detail, where they disagree with each other or with the case: an
// image of benignCase must be benign, every other one malicious.
func groundTruth(c string, img *reportImage, problem func(kind, detail string)) {
	var first string
	for _, d := range sortedKeys(img.recs) {
		r := img.recs[d]
		if first == "" {
			first = d
			img.label, img.truth = r.Label, sortedInts(r.MaliciousLayers)
			continue
		}
		if r.Label != img.label || !slices.Equal(sortedInts(r.MaliciousLayers), img.truth) {
			problem(truthDisagrees, fmt.Sprintf("detector %s's record says %s %s, %s's says %s %s; using %s's",
				d, r.Label, layerList(sortedInts(r.MaliciousLayers)), first, img.label, layerList(img.truth), first))
		}
	}
	switch {
	case img.label != LabelMalicious && img.label != LabelBenign:
		problem(truthBadLabel, fmt.Sprintf("label %q is neither %q nor %q; not counted as malicious", img.label, LabelMalicious, LabelBenign))
	case (c == benignCase) != (img.label == LabelBenign):
		problem(truthContradicts, fmt.Sprintf("labelled %s although the case bits say otherwise; the label is used", img.label))
	}
}

// warnGroups collects warnings of one kind that can occur once per image
// (hundreds of times in exp2) and writes each kind as one warning with a
// count and the first few examples, in the order kinds first occurred.
type warnGroups struct {
	kinds    []string
	examples map[string][]string
}

// maxExamples is how many examples one grouped warning lists.
const maxExamples = 3

func (g *warnGroups) add(kind, example string) {
	if g.examples == nil {
		g.examples = map[string][]string{}
	}
	if _, ok := g.examples[kind]; !ok {
		g.kinds = append(g.kinds, kind)
	}
	g.examples[kind] = append(g.examples[kind], example)
}

func (g *warnGroups) flush(warn func(string, ...any)) {
	for _, kind := range g.kinds {
		ex := g.examples[kind]
		shown := ex[:min(len(ex), maxExamples)]
		more := ""
		if len(ex) > len(shown) {
			more = fmt.Sprintf("; and %d more", len(ex)-len(shown))
		}
		warn("%s (%d): %s%s", kind, len(ex), strings.Join(shown, "; "), more)
	}
}

// warnMixedVersions warns about every detector whose records come from more
// than one detector version.
func warnMixedVersions(dets []string, versions map[string]map[string]bool, warn func(string, ...any)) {
	for _, d := range dets {
		if vs := sortedKeys(versions[d]); len(vs) > 1 {
			warn("detector %s: records from %d versions (%s) mixed in one table", d, len(vs), strings.Join(vs, ", "))
		}
	}
}

// reportFile reads records.jsonl at path and builds a report from it with
// build; a partial last line becomes the report's first warning.
func reportFile(path string, build func([]Record) (*Report, error)) (*Report, error) {
	recs, warns, err := readRecordsWarn(path)
	if err != nil {
		return nil, err
	}
	rep, err := build(recs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rep.Warnings = append(warns, rep.Warnings...)
	return rep, nil
}
