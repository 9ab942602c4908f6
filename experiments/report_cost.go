package experiments

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/strata-sec/strata/internal/table"
)

// costTable is the scan cost per image of every detector of exp's
// records (scan_ms: the detector's own wall time for one image, cache
// effects included), so a stage that runs the image (behaviour,
// hierarchical+dynamic) can be read next to the static ones. A detector
// whose records carry the sandbox's setup, run and teardown split
// (behaviour's info) gets their medians too.
func costTable(records []Record, exp string) NamedTable {
	ms := map[string][]int64{}
	setup := map[string][]float64{}
	var dets []string
	// One record per (image, detector), the last, as every other table
	// counts them (the report's own tables already warn about repeats).
	last := selectLast(records, func(r Record) string {
		if r.Experiment != exp {
			return "another experiment"
		}
		return ""
	}, func(string, ...any) {})
	for i, r := range records {
		if j, ok := last[recordKey{r.Image, r.Detector}]; !ok || j != i {
			continue
		}
		if _, ok := ms[r.Detector]; !ok {
			dets = append(dets, r.Detector)
		}
		ms[r.Detector] = append(ms[r.Detector], r.ScanMillis)
		if v, err := strconv.ParseFloat(r.Info["setup_seconds"], 64); err == nil {
			setup[r.Detector] = append(setup[r.Detector], v)
		}
	}
	slices.Sort(dets)
	t := table.New(
		table.Column{Header: "detector", Key: "detector"},
		table.Column{Header: "images", Key: "images", Align: table.Right},
		table.Column{Header: "median s", Key: "median_s", Align: table.Right},
		table.Column{Header: "p90 s", Key: "p90_s", Align: table.Right},
		table.Column{Header: "max s", Key: "max_s", Align: table.Right},
		table.Column{Header: "total s", Key: "total_s", Align: table.Right},
		table.Column{Header: "sandbox setup median s", Key: "sandbox_setup_median_s", Align: table.Right},
	)
	for _, d := range dets {
		xs := slices.Clone(ms[d])
		slices.Sort(xs)
		var sum int64
		for _, x := range xs {
			sum += x
		}
		su := ""
		if s := setup[d]; len(s) > 0 {
			slices.Sort(s)
			su = fmt.Sprintf("%.2f", s[len(s)/2])
		}
		t.Append(d, strconv.Itoa(len(xs)), seconds(xs[len(xs)/2]), seconds(xs[(len(xs)*9)/10]),
			seconds(xs[len(xs)-1]), fmt.Sprintf("%.0f", float64(sum)/1000), su)
	}
	note := "Each detector's wall time for one image (scan_ms of its records; the run scans --jobs images at once on this machine, " +
		"so times include contention). Cached work counts as it happened in the run: layers the per-layer cache already held cost " +
		"almost nothing."
	if len(setup) > 0 {
		note += " The sandbox detectors' time is the time limit or less, when the start command exits, plus setup; " +
			"behaviour and hierarchical+dynamic share one sandbox run per image (the second to ask waits for the first's), so its time shows in both rows but was spent once."
	}
	return NamedTable{
		Name:  "cost_per_image",
		Title: "Scan cost per image",
		Note:  note,
		Table: t,
	}
}

// seconds formats milliseconds as seconds with two decimals.
func seconds(ms int64) string { return fmt.Sprintf("%.2f", float64(ms)/1000) }
