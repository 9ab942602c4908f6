package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/corpus/census"
	"github.com/strata-sec/strata/internal/plot"
	"github.com/strata-sec/strata/internal/stats"
	"github.com/strata-sec/strata/internal/table"
)

// censusHistDetector is the detector whose score distribution the census
// report draws.
const censusHistDetector = "hierarchical"

// censusScoreBins are the upper bounds of the score histogram's first
// bins; then come "below the threshold" and "at or above it" (flagged).
var censusScoreBins = []float64{0, 2, 5, 8}

// CensusReportDir derives the census report from the records, census-run.json
// and the committed dispositions (corpus/census/dispositions.tsv).
func CensusReportDir(dir string, _ Slice) (*Report, error) {
	return reportFile(filepath.Join(dir, RecordsFile), func(recs []Record) (*Report, error) {
		rep, err := censusReport(recs)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(filepath.Join(dir, CensusRunFile))
		switch {
		case errors.Is(err, os.ErrNotExist):
			rep.warnf("no %s beside the records: time and disk not reported (a run before issue #18)", CensusRunFile)
		case err != nil:
			return nil, err
		default:
			var run CensusRun
			if err := json.Unmarshal(b, &run); err != nil {
				return nil, fmt.Errorf("%s: %w", CensusRunFile, err)
			}
			rep.Tables = append(rep.Tables, censusCostTable(run, recs))
		}
		canaries, warns, err := readRecordsWarn(filepath.Join(dir, CensusCanaryFile))
		switch {
		case errors.Is(err, os.ErrNotExist):
			rep.warnf("no %s beside the records: the positive controls (corpus/census/canaries) were not scanned (a run before them)", CensusCanaryFile)
		case err != nil:
			return nil, err
		default:
			rep.Warnings = append(rep.Warnings, warns...)
			rep.Tables = append(rep.Tables, censusCanaryTable(canaries, rep.warnf))
		}
		return rep, nil
	})
}

// censusCell is one (ecosystem, split, detector) cell of the FPR table.
type censusCell struct {
	flagged, incomplete, n int
	versions               map[string]bool
}

// censusEvidenceShown is how much of a finding's evidence the Markdown and
// terminal views show; fp_findings.csv carries it whole.
const censusEvidenceShown = 120

func censusReport(recs []Record) (*Report, error) {
	rep := &Report{Title: "Benign census: false-positive rate per ecosystem"}
	// last record per (image, detector): a resumed or repeated scan replaces
	// the earlier one
	last := map[recordKey]Record{}
	for _, r := range recs {
		last[recordKey{r.Image, r.Detector}] = r
	}
	cells := map[[3]string]*censusCell{}
	dets := map[string]bool{}
	versions := map[string]map[string]bool{}
	// hist[split][ecosystem]: dev and test are drawn apart, so a tuned
	// dev half cannot hide a shifted test half.
	hist := map[string]map[string][]int{}
	histVersions := map[string]bool{}
	disp, err := census.Dispositions()
	if err != nil {
		return nil, err
	}
	alarms := table.New(table.Column{Header: "detector"}, table.Column{Header: "version"}, table.Column{Header: "image"}, table.Column{Header: "ecosystem"},
		table.Column{Header: "split"}, table.Column{Header: "rule"}, table.Column{Header: "path"},
		table.Column{Header: "evidence", Key: "evidence_shown"}, table.Column{Header: "disposition"},
		table.Column{Key: "evidence", CSVOnly: true})
	for _, k := range sortedKeysFunc(last, compareRecordKeys) {
		r := last[k]
		eco, split := ecosystemOf(r), r.Split
		if split == "" {
			split = census.Dev
		}
		dets[r.Detector] = true
		if versions[r.Detector] == nil {
			versions[r.Detector] = map[string]bool{}
		}
		versions[r.Detector][r.DetectorVersion] = true
		for _, key := range [][3]string{{eco, split, r.Detector}, {"all", split, r.Detector}} {
			c := cells[key]
			if c == nil {
				c = &censusCell{versions: map[string]bool{}}
				cells[key] = c
			}
			c.n++
			c.versions[r.DetectorVersion] = true
			switch {
			case r.Error != "" || r.Decision == "incomplete":
				c.incomplete++
			case r.Flagged():
				c.flagged++
			}
		}
		if r.Detector == censusHistDetector && r.Error == "" {
			if hist[split] == nil {
				hist[split] = map[string][]int{}
			}
			if hist[split][eco] == nil {
				hist[split][eco] = make([]int, len(censusScoreBins)+2)
			}
			hist[split][eco][scoreBin(r.Score, r.Threshold)]++
			histVersions[r.DetectorVersion] = true
		}
		if r.Flagged() {
			rules := 0
			for _, f := range r.Findings {
				if f.Weight <= 0 && len(r.Findings) > 1 {
					continue
				}
				rules++
				alarms.Append(r.Detector, r.DetectorVersion, r.Image, eco, split, f.Rule, f.Path, clip(f.Evidence, censusEvidenceShown),
					disp.Of(r.Detector, r.Image, f.Rule), f.Evidence)
			}
			if rules == 0 {
				alarms.Append(r.Detector, r.DetectorVersion, r.Image, eco, split, "-", "-", "-", disp.Of(r.Detector, r.Image, "-"), "-")
			}
		}
	}
	cols := []table.Column{{Header: "ecosystem"}, {Header: "split"}, {Header: "detector"}, {Header: "version"}, {Header: "images", Align: table.Right}}
	cols = append(cols, rateColumns("FPR [95% CI]", "fpr")...)
	cols = append(cols, table.Column{Header: "incomplete", Align: table.Right})
	fpr := table.New(cols...)
	for _, eco := range append(append([]string(nil), census.Ecosystems...), "all") {
		for _, split := range []string{census.Dev, census.Test} {
			for _, d := range sortedKeys(dets) {
				c := cells[[3]string{eco, split, d}]
				if c == nil {
					continue
				}
				// FPR over the scans that decided: incomplete ones are neither
				// a false alarm nor a clean verdict, and are counted apart.
				rate := stats.ClopperPearson(c.flagged, c.n-c.incomplete, 0.95)
				row := []string{eco, split, d, strings.Join(sortedKeys(c.versions), " "), strconv.Itoa(c.n)}
				row = append(row, rateCells(rate)...)
				fpr.Rows = append(fpr.Rows, append(row, strconv.Itoa(c.incomplete)))
			}
		}
	}
	rep.Tables = append(rep.Tables, NamedTable{Name: "summary", Title: "False-positive rate per ecosystem, split and detector",
		Note: "Every census image is benign: a flagged verdict is a false alarm. FPR = flagged / decided scans, with its 95% Clopper-Pearson interval; " +
			"version is the detector version of the cell's records (more than one: the cell mixes versions, see the warnings). " +
			"incomplete scans (a limit hit, an error) are counted apart. `all` pools the ecosystems of a split. " +
			"The ordinary stratum (24 images, looked at while rules were written) is dev only.",
		Table: fpr})
	if len(alarms.Rows) == 0 {
		alarms.Append("-", "-", "-", "-", "-", "-", "-", "no false alarm", "-", "-")
	}
	warnMixedVersions(sortedKeys(dets), versions, rep.warnf)
	rep.Tables = append(rep.Tables, NamedTable{Name: "fp_findings", Title: "False alarms: every finding of every flagged census image",
		Note: "Disposition from corpus/census/dispositions.tsv: `fixed in <version>` (a rule fixed on the dev side) or `accepted: <why>`; none recorded reads `open`. " +
			fmt.Sprintf("Evidence is shortened to %d characters here; fp_findings.csv holds it whole (column evidence).", censusEvidenceShown),
		Table: alarms})
	version := strings.Join(sortedKeys(histVersions), " ")
	for _, split := range []string{census.Dev, census.Test} {
		if len(hist[split]) == 0 {
			continue
		}
		title := fmt.Sprintf("%s %s: scores of the census's %s half", censusHistDetector, version, split)
		fig, err := censusHistogram(title, hist[split])
		if err != nil {
			return nil, err
		}
		rep.Figures = append(rep.Figures, NamedFigure{Name: "scores_" + split, Title: fmt.Sprintf("Score distribution of the %s detector (%s) per ecosystem, %s half", censusHistDetector, version, split),
			Note: "Share of each ecosystem's images per score bin (bin labels are upper bounds; then the rest below the detector's threshold, and at or above it: flagged), with 95% intervals. " +
				"Dev and test are drawn apart; the ordinary stratum is dev only.",
			Figure: fig})
	}
	return rep, nil
}

func scoreBin(s, threshold float64) int {
	if threshold > 0 && s >= threshold {
		return len(censusScoreBins) + 1
	}
	for i, ub := range censusScoreBins {
		if s <= ub {
			return i
		}
	}
	return len(censusScoreBins)
}

// censusHistogram draws the score histogram as the share of each
// ecosystem's images in each bin (grouped bars with their intervals).
func censusHistogram(title string, hist map[string][]int) (*plot.Figure, error) {
	var groups []string
	for i, ub := range censusScoreBins {
		if i == 0 {
			groups = append(groups, "0")
			continue
		}
		groups = append(groups, "≤"+strconv.FormatFloat(ub, 'g', -1, 64))
	}
	groups = append(groups, "below threshold", "≥ threshold")
	var series []plot.Series
	for _, eco := range census.Ecosystems {
		h := hist[eco]
		if h == nil {
			continue
		}
		n := 0
		for _, c := range h {
			n += c
		}
		s := plot.Series{Name: fmt.Sprintf("%s (n=%d)", eco, n)}
		for _, c := range h {
			s.Rates = append(s.Rates, stats.ClopperPearson(c, n, 0.95))
		}
		series = append(series, s)
	}
	return plot.GroupedBars(plot.Bars{Title: title, XLabel: "score", YLabel: "share of images",
		Groups: groups, Series: series})
}

// censusCostTable is the time and disk table: from census-run.json (sizes
// and assembly, summed from the first assembly of each image) and the
// records (scan time).
func censusCostTable(run CensusRun, recs []Record) NamedTable {
	scanMS := map[string]int64{}
	scanned := map[string]map[string]bool{}
	for _, r := range recs {
		eco := ecosystemOf(r)
		scanMS[eco] += r.ScanMillis
		if scanned[eco] == nil {
			scanned[eco] = map[string]bool{}
		}
		scanned[eco][r.Image] = true
	}
	t := table.New(table.Column{Header: "ecosystem"}, table.Column{Header: "images", Align: table.Right},
		table.Column{Header: "downloaded (GB)", Align: table.Right}, table.Column{Header: "layers, gzip (GB)", Align: table.Right},
		table.Column{Header: "layers, tar (GB)", Align: table.Right}, table.Column{Header: "assembly (images/min)", Align: table.Right},
		table.Column{Header: "scan, all detectors (images/min)", Align: table.Right})
	gb := func(n int64) string { return strconv.FormatFloat(float64(n)/1e9, 'f', 3, 64) }
	perMin := func(n int, ms int64) string {
		if ms <= 0 {
			return "n/a"
		}
		return strconv.FormatFloat(float64(n)*60000/float64(ms), 'f', 1, 64)
	}
	for _, c := range run.Ecosystems {
		assembly := "n/a (BuildKit)"
		if c.Ecosystem != census.Ordinary {
			assembly = perMin(c.Images, c.AssembleMS)
		}
		t.Append(c.Ecosystem, strconv.Itoa(c.Images), gb(c.DownloadBytes), gb(c.LayerBytes), gb(c.DiffBytes), assembly,
			perMin(len(scanned[c.Ecosystem]), scanMS[c.Ecosystem]))
	}
	t.Append("store", "", "", gb(run.StoreBytes)+" (census blobs)", gb(run.WholeStoreBytes)+" (whole store)",
		fmt.Sprintf("this run: fetch %.0fs, assembly %.0fs", run.FetchSeconds, run.AssembleSeconds), "")
	return NamedTable{Name: "cost", Title: "Time and disk",
		Note: "Downloaded: .deb sizes (Debian, Python) and installed node_modules sizes (npm), at first download. Assembly: one image's layer written, compressed and stored, " +
			"one image at a time (summed per-image times). Scan: summed scan_ms of every detector per image, sequential; a run uses --jobs at once.",
		Table: t}
}

// censusCanaryTable lists every detector's verdict on the positive
// controls; a hierarchical miss is a warning, as it voids the census's
// "no false alarm".
func censusCanaryTable(recs []Record, warn func(string, ...any)) NamedTable {
	last := map[recordKey]Record{}
	for _, r := range recs {
		last[recordKey{r.Image, r.Detector}] = r
	}
	t := table.New(table.Column{Header: "canary"}, table.Column{Header: "ecosystem"}, table.Column{Header: "detector"}, table.Column{Header: "version"},
		table.Column{Header: "verdict"}, table.Column{Header: "score / threshold"}, table.Column{Header: "rules"})
	for _, k := range sortedKeysFunc(last, compareRecordKeys) {
		r := last[k]
		var rules []string
		for _, f := range r.Findings {
			if f.Weight > 0 && !slices.Contains(rules, f.Rule) {
				rules = append(rules, f.Rule)
			}
		}
		v := verdict(r, true)
		if r.Detector == censusHistDetector && !r.Flagged() {
			warn("canary %s: %s %s says %s: the census's assembly and scan path did not show it can see this miner", r.Image, r.Detector, r.DetectorVersion, v)
		}
		t.Append(r.Image, r.Family, r.Detector, r.DetectorVersion, v, fnum(r.Score)+" / "+fnum(r.Threshold), strings.Join(rules, " "))
	}
	return NamedTable{Name: "canaries", Title: "Positive controls: canaries assembled the census's way",
		Note: "Inert miner stand-ins (corpus/census/canaries/README.md) assembled exactly as census subjects of their ecosystem are; " +
			"never census subjects, never counted in a false-positive rate. A detector that does not flag them cannot tell the census's clean verdicts from blindness.",
		Table: t}
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
