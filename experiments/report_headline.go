package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/corpus/census"
	"github.com/strata-sec/strata/corpus/wild"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// The files WriteFiles puts in the results dir.
const (
	HeadlineMarkdown = "headline.md"
	HeadlineCSV      = "headline.csv"
)

// headlineColumn is one column of the headline table: an experiment's
// records, or one split of them.
type headlineColumn struct {
	name  string // column heading and CSV value
	exp   string
	split string // wild and census only
}

// headlineColumns are the headline's columns, in order: the paper's
// experiments, the wild corpus's tuning split and its held-out splits, then
// the benign-only sets: the benign corpus and the census's two halves
// (their TPR cells read "–").
var headlineColumns = []headlineColumn{
	{name: Exp1, exp: Exp1},
	{name: Exp2, exp: Exp2},
	{name: Exp3, exp: Exp3},
	{name: "wild dev (tuning)", exp: Wild, split: wild.Dev},
	{name: "wild test", exp: Wild, split: wild.Test},
	{name: "wild test2 (round 2)", exp: Wild, split: wild.Test2},
	{name: "wild test3 (round 3)", exp: Wild, split: wild.Test3},
	{name: Benign, exp: Benign},
	{name: "census dev", exp: Census, split: census.Dev},
	{name: "census test", exp: Census, split: census.Test},
}

// Subjects of experiments 1-3 (see headlineSubject).
const (
	// sampleSubject is the one reconstructed malicious sample every
	// malicious image of experiments 1-3 derives from.
	sampleSubject = "drupal-sample"
	// sampleBenignSubject is case 000: the sample's benign layers alone.
	sampleBenignSubject = "drupal-webapp"
)

// headlineSubject maps a record to the distinct subject its image is a
// variant of. Variants of one subject are not independent draws, so
// subject-level rates count each subject once:
//   - wild: the subject name (Case); one image per subject.
//   - census: the image; one image per package (Case is its ecosystem).
//   - exp1-3, malicious: every image is a layer subset (case bits) and/or a
//     mutation of the one reconstructed drupal sample, so all of them are
//     one subject, sampleSubject.
//   - exp1-3, benign, case 000: the sample's benign layers, whatever the
//     mutation: sampleBenignSubject.
//   - exp3, benign, other cases: Case is the benign corpus image's name;
//     each is one subject with its mutated variants.
func headlineSubject(r Record) string {
	switch {
	case r.Experiment == Wild:
		return wildSubjectName(r)
	case r.Experiment == Census:
		return r.Image
	case r.Label == LabelMalicious:
		return sampleSubject
	case r.Case == benignCase:
		return sampleBenignSubject
	case r.Case != "":
		return r.Case
	}
	return r.Image
}

// headlineCell tallies one detector's verdicts in one column, per image
// and per subject.
type headlineCell struct {
	tp, pos, fp, neg, incomplete int
	versions                     map[string]bool
	malSubjects, benSubjects     stats.Clusters
	greySubjects                 stats.Clusters
}

func (c *headlineCell) add(r Record) {
	f := flagged(r, true)
	if verdict(r, true) == "incomplete" {
		c.incomplete++
	}
	if c.versions == nil {
		c.versions = map[string]bool{}
	}
	c.versions[r.DetectorVersion] = true
	subject := headlineSubject(r)
	switch r.Label {
	case LabelMalicious:
		c.pos++
		if f {
			c.tp++
		}
		c.malSubjects.Add(subject, f)
	case LabelBenign:
		c.neg++
		if f {
			c.fp++
		}
		c.benSubjects.Add(subject, f)
	case LabelGrey:
		c.greySubjects.Add(subject, f)
	}
}

// noMalicious renders a TPR cell of a column without malicious images
// (benign, census): there is nothing to detect.
const noMalicious = "–"

func (c *headlineCell) tprImages() stats.Rate { return stats.ClopperPearson(c.tp, c.pos, confidence) }
func (c *headlineCell) fprImages() stats.Rate { return stats.ClopperPearson(c.fp, c.neg, confidence) }

// tprSubjects counts a malicious subject as detected only when every
// variant of it was flagged.
func (c *headlineCell) tprSubjects() stats.Rate {
	s := c.malSubjects.Counts()
	return stats.ClopperPearson(s.Every, s.Len(), confidence)
}

// fprSubjects counts a benign subject as a false alarm when any variant of
// it was flagged: the same conservative side as tprSubjects.
func (c *headlineCell) fprSubjects() stats.Rate {
	s := c.benSubjects.Counts()
	return stats.ClopperPearson(s.Any(), s.Len(), confidence)
}

// Headline is the cross-experiment summary: Report holds one table per
// detector (rows: measures, columns: experiments) for headline.md, CSV the
// same numbers one row per (detector, column) for programs.
type Headline struct {
	Report *Report
	CSV    *table.Table
}

// HeadlineReport reads the committed records of every headline experiment
// from results/<exp>/records.jsonl and builds the headline; an experiment
// without records is left out with a warning.
func HeadlineReport(results string) (*Headline, error) {
	byExp := map[string][]Record{}
	var warns []string
	for _, col := range headlineColumns {
		if _, done := byExp[col.exp]; done {
			continue
		}
		path := filepath.Join(results, col.exp, RecordsFile)
		recs, w, err := readRecordsWarn(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			warns = append(warns, fmt.Sprintf("%s: no records (%s); its column is left out: run `strata experiment %s` or restore them from git", col.exp, path, col.exp))
			byExp[col.exp] = nil
			continue
		case err != nil:
			return nil, err
		}
		warns = append(warns, w...)
		byExp[col.exp] = recs
	}
	h, err := headline(byExp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", results, err)
	}
	h.Report.Warnings = append(warns, h.Report.Warnings...)
	return h, nil
}

// headline builds the headline from each experiment's records.
func headline(byExp map[string][]Record) (*Headline, error) {
	rep := &Report{Title: "Headline: every experiment, per detector, images and distinct subjects"}
	cells := map[string]map[string]*headlineCell{} // detector -> column -> cell
	var cols []headlineColumn
	unsplit := 0
	for _, r := range byExp[Wild] {
		if r.Experiment == Wild && !slices.Contains(wild.Splits, r.Split) {
			unsplit++
		}
	}
	if unsplit > 0 {
		rep.warnf("%s: %d record(s) with a split other than %s are in no column; check corpus/wild/split*.json and rerun them", Wild, unsplit, strings.Join(wild.Splits, ", "))
	}
	for _, col := range headlineColumns {
		recs := byExp[col.exp]
		if len(recs) == 0 {
			continue
		}
		warn := func(format string, args ...any) { rep.warnf(col.name+": "+format, args...) }
		if col.split != "" {
			// A split column is the records of its split; the other
			// split's are not skipped by mistake, so no warning.
			var mine []Record
			for _, r := range recs {
				if r.Split == col.split {
					mine = append(mine, r)
				}
			}
			recs = mine
		}
		last := selectLast(recs, func(r Record) string {
			if r.Experiment != col.exp {
				return fmt.Sprintf("experiment %q", r.Experiment)
			}
			return ""
		}, warn)
		if len(last) == 0 {
			// A split without records is left out silently: a run sliced
			// with --split scans only some splits.
			if col.split == "" {
				warn("no records")
			}
			continue
		}
		cols = append(cols, col)
		for i, r := range recs {
			if j, ok := last[recordKey{r.Image, r.Detector}]; !ok || j != i {
				continue
			}
			if cells[r.Detector] == nil {
				cells[r.Detector] = map[string]*headlineCell{}
			}
			c := cells[r.Detector][col.name]
			if c == nil {
				c = &headlineCell{}
				cells[r.Detector][col.name] = c
			}
			c.add(r)
		}
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no records of %s: run the experiments or restore results/ from git", headlineNames())
	}
	dets := sortedKeysFunc(cells, compareHeadlineDetectors)
	for i, d := range dets {
		nt := headlineDetectorTable(d, cols, cells[d])
		if i == 0 {
			nt.Note = headlineNote
		} else {
			nt.Note = "Measures as defined under the first table."
		}
		rep.Tables = append(rep.Tables, nt)
	}
	return &Headline{Report: rep, CSV: headlineLongTable(dets, cols, cells)}, nil
}

// compareHeadlineDetectors puts the hierarchical detector, the one the
// headline is about, first and the baselines after it by name.
func compareHeadlineDetectors(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == hierarchical.Name:
		return -1
	case b == hierarchical.Name:
		return 1
	}
	return strings.Compare(a, b)
}

func headlineNames() string {
	var names []string
	for _, c := range headlineColumns {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// headlineNote defines the measures; every detector table carries it.
const headlineNote = "Rates with 95% Clopper-Pearson intervals and k/n. Images: every scanned image counts once. " +
	"Subjects: variants of one subject are not independent, so each distinct subject counts once: in exp1-3 every malicious image " +
	"derives from the one reconstructed drupal sample (1 malicious subject), benign subjects are the sample's benign layers (case 000) " +
	"and, in exp3, each benign corpus image; in the wild corpus each image is its own subject. A malicious subject counts as detected " +
	"only when every variant of it is flagged; a benign subject counts as a false alarm when any variant is flagged. " +
	"every / some / none: subjects with every, some (not all) and no variant flagged. " +
	"wild dev is the split rules and threshold were tuned on; wild test is round 1's held-out split (corpus/wild/split.json); " +
	"wild test2 and test3 are rounds 2 and 3, each written later by engineers blind to the detector and held out entirely (corpus/wild/split2.json, split3.json, ROUND2.md). " +
	"benign is the benign corpus (corpus/benign), census dev and census test the benign census's halves (corpus/census; one package per image, each its own subject; " +
	"the 24 ordinary images are in dev): they hold no malicious image, so their TPR cells read –. " +
	"Incomplete verdicts and failed scans count as not flagged; an image a detector has no record of is not counted for it."

// headlineRows are the measures of a detector table, each rendering one
// cell of a column.
var headlineRows = []struct {
	name string
	cell func(*headlineCell) string
}{
	{"TPR, images", func(c *headlineCell) string { return c.tprCell(c.tprImages()) }},
	{"TPR, subjects (every variant flagged)", func(c *headlineCell) string { return c.tprCell(c.tprSubjects()) }},
	{"malicious subjects: every / some / none", func(c *headlineCell) string { return clusterCell(c.malSubjects.Counts()) }},
	{"FPR, images", func(c *headlineCell) string { return c.fprImages().String() }},
	{"FPR, subjects (any variant flagged)", func(c *headlineCell) string { return c.fprSubjects().String() }},
	{"benign subjects: every / some / none", func(c *headlineCell) string { return clusterCell(c.benSubjects.Counts()) }},
	{"grey subjects flagged", func(c *headlineCell) string {
		g := c.greySubjects.Counts()
		if g.Len() == 0 {
			return "–"
		}
		return fmt.Sprintf("%d/%d", g.Any(), g.Len())
	}},
	{"incomplete (images)", func(c *headlineCell) string { return strconv.Itoa(c.incomplete) }},
	{"detector version", func(c *headlineCell) string { return strings.Join(sortedKeys(c.versions), " ") }},
}

// tprCell is a TPR rate, or noMalicious for a column without malicious
// images.
func (c *headlineCell) tprCell(r stats.Rate) string {
	if c.pos == 0 {
		return noMalicious
	}
	return r.String()
}

func clusterCell(c stats.ClusterCounts) string {
	if c.Len() == 0 {
		return "–"
	}
	return fmt.Sprintf("%d / %d / %d", c.Every, c.Some, c.None)
}

func headlineDetectorTable(det string, cols []headlineColumn, cells map[string]*headlineCell) NamedTable {
	tcols := []table.Column{{Header: "measure", Key: "measure"}}
	for _, c := range cols {
		tcols = append(tcols, table.Column{Header: c.name, Key: c.name})
	}
	t := table.New(tcols...)
	for _, row := range headlineRows {
		out := []string{row.name}
		for _, c := range cols {
			cell := cells[c.name]
			if cell == nil {
				out = append(out, "not scanned")
				continue
			}
			out = append(out, row.cell(cell))
		}
		t.Append(out...)
	}
	return NamedTable{Name: "headline_" + det, Title: "Detector " + det, Table: t}
}

// headlineLongTable is the CSV: one row per (detector, column) with every
// count and each rate's k, n, p, lo, hi.
func headlineLongTable(dets []string, cols []headlineColumn, cells map[string]map[string]*headlineCell) *table.Table {
	tcols := []table.Column{{Key: "detector"}, {Key: "column"}, {Key: "experiment"}, {Key: "split"}, {Key: "detector_version"}}
	tcols = append(tcols, rateColumns("TPR images", "tpr_images")...)
	tcols = append(tcols, rateColumns("TPR subjects", "tpr_subjects")...)
	tcols = append(tcols, table.Column{Key: "malicious_subjects_every"}, table.Column{Key: "malicious_subjects_some"}, table.Column{Key: "malicious_subjects_none"})
	tcols = append(tcols, rateColumns("FPR images", "fpr_images")...)
	tcols = append(tcols, rateColumns("FPR subjects", "fpr_subjects")...)
	tcols = append(tcols, table.Column{Key: "benign_subjects_every"}, table.Column{Key: "benign_subjects_some"}, table.Column{Key: "benign_subjects_none"})
	tcols = append(tcols, table.Column{Key: "grey_subjects"}, table.Column{Key: "grey_subjects_flagged"}, table.Column{Key: "incomplete_images"})
	t := table.New(tcols...)
	for _, d := range dets {
		for _, col := range cols {
			c := cells[d][col.name]
			if c == nil {
				continue
			}
			mal, ben, grey := c.malSubjects.Counts(), c.benSubjects.Counts(), c.greySubjects.Counts()
			row := []string{d, col.name, col.exp, col.split, strings.Join(sortedKeys(c.versions), " ")}
			row = append(row, rateCells(c.tprImages())...)
			row = append(row, rateCells(c.tprSubjects())...)
			row = append(row, strconv.Itoa(mal.Every), strconv.Itoa(mal.Some), strconv.Itoa(mal.None))
			row = append(row, rateCells(c.fprImages())...)
			row = append(row, rateCells(c.fprSubjects())...)
			row = append(row, strconv.Itoa(ben.Every), strconv.Itoa(ben.Some), strconv.Itoa(ben.None))
			row = append(row, strconv.Itoa(grey.Len()), strconv.Itoa(grey.Any()), strconv.Itoa(c.incomplete))
			t.Append(row...)
		}
	}
	return t
}

// WriteFiles writes HeadlineMarkdown and HeadlineCSV into dir.
func (h *Headline) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create headline dir: %w", err)
	}
	var md, csv bytes.Buffer
	if err := h.Report.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := h.CSV.WriteCSV(&csv); err != nil {
		return fmt.Errorf("headline CSV: %w", err)
	}
	for name, b := range map[string][]byte{HeadlineMarkdown: md.Bytes(), HeadlineCSV: csv.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
