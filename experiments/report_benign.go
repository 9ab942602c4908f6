package experiments

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// BenignReportFile reads records.jsonl at path and builds the benign
// report; a partial last line becomes the report's first warning.
func BenignReportFile(path string) (*Report, error) {
	return reportFile(path, BenignReport)
}

// BenignReport derives the benign-corpus tables from records: per-image
// verdicts, a per-detector false-positive rate with its 95% Clopper-Pearson
// interval, and the findings of every flagged verdict. Records of other
// experiments are skipped, a repeated (image, detector) pair counts its last
// record, and an image recorded with a malicious label is reported and left
// out of the rates. It fails only when no benign record is left.
func BenignReport(records []Record) (*Report, error) {
	return benignReport(records, Benign, "Benign corpus: false positives")
}

// benignReport is BenignReport for the records of experiment exp, under
// title: every image is expected benign.
func benignReport(records []Record, exp, title string) (*Report, error) {
	rep := &Report{Title: title}
	warn := func(format string, args ...any) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...))
	}
	last := selectLast(records, func(r Record) string {
		if r.Experiment != exp {
			return fmt.Sprintf("experiment %q", r.Experiment)
		}
		return ""
	}, warn)
	groups := groupImages(records, last, func(r Record) string { return r.Image })
	if len(groups.images) == 0 {
		return nil, fmt.Errorf("no %s records among %d", exp, len(records))
	}
	names := sortedKeys(groups.images)
	detectorSet := map[string]bool{}
	versions := map[string]map[string]bool{}
	var images []*reportImage
	for _, name := range names {
		img := groups.images[name]
		for d, r := range img.recs {
			detectorSet[d] = true
			if versions[d] == nil {
				versions[d] = map[string]bool{}
			}
			versions[d][r.DetectorVersion] = true
		}
		img.label = ""
		for _, d := range sortedKeys(img.recs) {
			r := img.recs[d]
			if img.label == "" {
				img.label = r.Label
			} else if r.Label != img.label {
				warn("%s: detector %s's record says %s, another says %s", name, d, r.Label, img.label)
			}
		}
		if img.label != LabelBenign {
			warn("%s: labelled %q, not %q; left out of the rates", name, img.label, LabelBenign)
			continue
		}
		images = append(images, img)
	}
	dets := sortedKeys(detectorSet)
	for _, img := range images {
		for _, d := range dets {
			r, ok := img.recs[d]
			switch {
			case !ok:
				warn("%s, detector %s: no record; shown as missing", img.name, d)
			case r.Error != "":
				warn("%s, detector %s: scan failed: %s", img.name, d, r.Error)
			case !knownDecision(r.Decision):
				warn("%s, detector %s: unknown decision %q", img.name, d, r.Decision)
			}
		}
	}
	warnMixedVersions(dets, versions, warn)
	rep.Tables = append(rep.Tables,
		benignImageTable(images, dets),
		benignSummaryTable(images, dets, versions),
		benignFindingsTable(images, dets))
	return rep, nil
}

func benignImageTable(images []*reportImage, dets []string) NamedTable {
	cols := []table.Column{{Header: "image", Key: "image"}}
	for _, d := range dets {
		cols = append(cols, table.Column{Header: d, Key: d})
	}
	for _, d := range dets {
		cols = append(cols,
			table.Column{Key: d + "_decision", CSVOnly: true},
			table.Column{Key: d + "_score", CSVOnly: true},
			table.Column{Key: d + "_threshold", CSVOnly: true})
	}
	t := table.New(cols...)
	for _, img := range images {
		row := []string{img.name}
		var raw []string
		for _, d := range dets {
			r, ok := img.recs[d]
			cell := benignVerdict(r, ok)
			if ok && r.Error == "" && r.Threshold > 0 {
				cell += fmt.Sprintf(" (%s/%s)", fnum(r.Score), fnum(r.Threshold))
			}
			row = append(row, cell)
			score, thr := "", ""
			if ok {
				score, thr = fnum(r.Score), fnum(r.Threshold)
			}
			raw = append(raw, verdict(r, ok), score, thr)
		}
		t.Append(append(row, raw...)...)
	}
	return NamedTable{
		Name:  "images",
		Title: "Per-image verdicts",
		Note: "Every image is benign (corpus/benign/README.md). flagged is a false positive (FP), clean a true negative (TN); " +
			"(score/threshold) is shown for detectors that score.",
		Table: t,
	}
}

func benignSummaryTable(images []*reportImage, dets []string, versions map[string]map[string]bool) NamedTable {
	cols := []table.Column{
		{Header: "detector", Key: "detector"},
		{Key: "detector_version", CSVOnly: true},
		{Header: "images", Key: "images"},
		{Header: "flagged", Key: "flagged"},
		{Header: "incomplete", Key: "incomplete"},
		{Header: "error/missing", Key: "error_missing"},
	}
	cols = append(cols, rateColumns("FPR", "fpr")...)
	t := table.New(cols...)
	for _, d := range dets {
		var fp, inc, bad int
		for _, img := range images {
			r, ok := img.recs[d]
			switch v := verdict(r, ok); {
			case flagged(r, ok):
				fp++
			case v == "incomplete":
				inc++
			case v != "clean":
				bad++
			}
		}
		row := []string{d, strings.Join(sortedKeys(versions[d]), " "), strconv.Itoa(len(images)),
			strconv.Itoa(fp), strconv.Itoa(inc), strconv.Itoa(bad)}
		row = append(row, rateCells(stats.ClopperPearson(fp, len(images), confidence))...)
		t.Append(row...)
	}
	return NamedTable{
		Name:  "summary",
		Title: "False-positive rate per detector",
		Note: "FPR = flagged benign images / benign images, with a 95% Clopper-Pearson interval. " +
			"Incomplete, error and missing verdicts are not counted as flagged; they are listed so they are not mistaken for clean.",
		Table: t,
	}
}

// benignFindingsTable lists the findings of every flagged verdict: what a
// false positive was made of.
func benignFindingsTable(images []*reportImage, dets []string) NamedTable {
	t := table.New(
		table.Column{Header: "image", Key: "image"},
		table.Column{Header: "detector", Key: "detector"},
		table.Column{Header: "rule", Key: "rule"},
		table.Column{Header: "weight", Key: "weight"},
		table.Column{Header: "layer", Key: "layer"},
		table.Column{Header: "path", Key: "path"},
		table.Column{Header: "evidence", Key: "evidence"},
	)
	for _, img := range images {
		for _, d := range dets {
			r, ok := img.recs[d]
			if !flagged(r, ok) {
				continue
			}
			fs := slices.Clone(r.Findings)
			if len(fs) == 0 {
				t.Append(img.name, d, "(no findings recorded)", "", "", "", "")
			}
			for _, f := range fs {
				path := f.Path
				if f.Hidden {
					path += fmt.Sprintf(" (deleted by layer %d)", f.RemovedBy)
				}
				ev := f.Evidence
				if len(ev) > 120 {
					ev = ev[:117] + "..."
				}
				t.Append(img.name, d, f.Rule, fnum(f.Weight), strconv.Itoa(f.Layer), path, ev)
			}
		}
	}
	return NamedTable{
		Name:  "fp_findings",
		Title: "Findings of the false positives",
		Note:  "One row per finding of a flagged (false-positive) verdict, as the detector recorded it; layer -1 is image config.",
		Table: t,
	}
}

func fnum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
