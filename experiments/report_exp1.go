package experiments

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// Exp1Name is the Experiment field of exp1 records.
const Exp1Name = "exp1"

// exp1Paper is the detection rate the paper (PaperReference, Experiment 1)
// reports for the
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
	return reportFile(path, Exp1Report)
}

// Exp1Report derives the exp1 tables from records: per-case verdicts and a
// per-detector summary. Records of other experiments are skipped, a repeated
// (image, detector) pair counts its last record, and a case recorded under
// more than one image uses the image recorded last; each of these is
// reported in Warnings. It fails only when no exp1 record is left.
func Exp1Report(records []Record) (*Report, error) {
	rep := &Report{Title: "Experiment 1: layer presence (8 cases)"}
	warn := rep.warnf

	last := selectLast(records, func(r Record) string {
		switch {
		case r.Experiment != Exp1Name:
			return fmt.Sprintf("experiment %q", r.Experiment)
		case !slices.Contains(exp1Cases(), r.Case):
			return fmt.Sprintf("case %q (not 3 bits)", r.Case)
		case r.Mutation != "":
			return fmt.Sprintf("mutation %q (exp1 images are unmutated)", r.Mutation)
		}
		return ""
	}, warn)
	groups := groupImages(records, last, func(r Record) string { return r.Case })
	if len(groups.unitImage) == 0 {
		return nil, fmt.Errorf("no %s records among %d", Exp1Name, len(records))
	}

	byCase := map[string]*reportImage{}
	detectorSet := map[string]bool{}
	for _, c := range exp1Cases() {
		name, ok := groups.unitImage[c]
		if !ok {
			warn("case %s: no records", c)
			continue
		}
		if n := len(groups.allImages[c]); n > 1 {
			warn("case %s: records for %d images (%s); using %s, recorded last",
				c, n, strings.Join(sortedKeys(groups.allImages[c]), ", "), name)
		}
		img := groups.images[name]
		groundTruth(c, img, func(_, detail string) { warn("case %s (%s): %s", c, img.name, detail) })
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
	warnMixedVersions(dets, versions, warn)

	rep.Tables = append(rep.Tables, exp1CaseTable(byCase, dets), exp1SummaryTable(byCase, dets, versions), costTable(records, Exp1))
	return rep, nil
}

func exp1CaseTable(byCase map[string]*reportImage, dets []string) NamedTable {
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
		Note: "Case bits give the presence of layers 8, 9 and 10, as in Experiment 1 of " + paperCite + ". " +
			"Layer numbers are indices in the built image (0 = bottom), so an absent malicious layer shifts the ones above it down. " +
			"[...] lists the layers a detector blamed.",
		Table: t,
	}
}

func exp1SummaryTable(byCase map[string]*reportImage, dets []string, versions map[string]map[string]bool) NamedTable {
	cols := []table.Column{
		{Header: "detector", Key: "detector"},
		{Key: "detector_version", CSVOnly: true},
		{Header: "paper", Key: "paper"},
		{Header: "detected", Key: "detected_of_8"},
		{Key: "detected_k", CSVOnly: true},
		{Key: "cases_n", CSVOnly: true},
	}
	cols = append(cols, rateColumns("TPR", "tpr")...)
	cols = append(cols, table.Column{Header: "case 000", Key: "case_000"})
	cols = append(cols, rateColumns("layer precision", "layer_precision")...)
	cols = append(cols, rateColumns("layer recall", "layer_recall")...)
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
		Note: "\"paper\" is the rate " + paperCite + " reports for Experiment 1, of 8 cases, for the product whose method the detector re-implements " +
			"(digest-image and digest-layer: Docker Scout; multiengine: VirusTotal; hierarchical: the proposed method). " +
			"\"detected\" counts flagged images among all 8 cases, (0,0,0) included, the way the paper counts. " +
			"TPR counts only the malicious cases. Every [lo–hi] is a 95% Clopper-Pearson interval. " +
			"\"case 000\" is the verdict on the image with no malicious layer: flagged is a false positive (FP), clean a true negative (TN). " +
			"Layer precision and recall compare the layers blamed by flagged verdicts with the ground-truth malicious layers, " +
			"micro-averaged over malicious images; the layers of one image are not independent, so read their intervals as optimistic. " +
			"Incomplete, error and missing verdicts count as not flagged. " +
			"The paper: " + PaperReference + ".",
		Table: t,
	}
}
