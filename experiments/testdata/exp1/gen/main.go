// Command gen writes the synthetic exp1 records used by the report golden
// tests. See ../../README.md for what the records contain and why.
//
//	go run ./experiments/testdata/exp1/gen > experiments/testdata/exp1/records.jsonl
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/experiments"
)

func digest(s string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))
}

func main() {
	enc := json.NewEncoder(os.Stdout)
	emit := func(r experiments.Record) {
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for i := range 8 {
		c := fmt.Sprintf("%03b", i)
		img := "exp1/case-" + c
		// Base layer 0 and benign layers 1-7 are always there; the present
		// malicious layers (logical 8, 9, 10) stack on top. DiffIDs are
		// derived from the logical layer, as with reproducible builds.
		var layers []string
		for l := range 8 {
			layers = append(layers, digest(fmt.Sprintf("drupal/layer-%d", l)))
		}
		var truth []int
		for b, logical := range []int{8, 9, 10} {
			if c[b] == '1' {
				truth = append(truth, len(layers))
				layers = append(layers, digest(fmt.Sprintf("drupal/layer-%d", logical)))
			}
		}
		label := experiments.LabelMalicious
		if c == "000" {
			label = experiments.LabelBenign
		}
		base := experiments.Record{
			Schema: experiments.RecordSchema, Experiment: "exp1", Image: img,
			ManifestDigest: digest("manifest/" + c), ConfigDigest: digest("config/" + c),
			Layers: layers, Case: c, Label: label, MaliciousLayers: truth,
		}
		rec := func(det, ver string, d detectors.Decision, score float64, blamed []int) experiments.Record {
			r := base
			r.Detector, r.DetectorVersion, r.Decision, r.Score, r.Threshold = det, ver, d, score, 1
			r.BlamedLayers = blamed
			r.ScanMillis = 100
			return r
		}
		malicious := len(truth) > 0

		// digest-image: only the full image's digest was learned.
		switch c {
		case "010":
			r := rec("digest-image", "1.0.0", "", 0, nil)
			r.Error = "open layer " + layers[8] + ": unexpected EOF"
			emit(r)
		case "111":
			emit(rec("digest-image", "1.0.0", detectors.Malicious, 1, nil))
		default:
			emit(rec("digest-image", "1.0.0", detectors.Clean, 0, nil))
		}

		// digest-layer: every malicious layer's diffID was learned.
		if malicious {
			emit(rec("digest-layer", "1.0.0", detectors.Malicious, float64(len(truth)), truth))
		} else {
			emit(rec("digest-layer", "1.0.0", detectors.Clean, 0, nil))
		}

		// hierarchical: case 010 is flagged from the config alone (no layer
		// blamed); case 101 was scanned twice, the first run said clean.
		switch {
		case c == "010":
			emit(rec("hierarchical", "0.3.0", detectors.Malicious, 1.5, nil))
		case c == "101":
			emit(rec("hierarchical", "0.3.0", detectors.Clean, 0.4, nil))
			emit(rec("hierarchical", "0.3.0", detectors.Malicious, 3, truth))
		case malicious:
			emit(rec("hierarchical", "0.3.0", detectors.Malicious, 3, truth))
		default:
			emit(rec("hierarchical", "0.3.0", detectors.Clean, 0.2, nil))
		}

		// multiengine: a YARA rule also fires on benign layer 3 (a PHP
		// crypto library), which makes case 000 a false positive; case 001
		// hit a size limit; case 011 has no record (run interrupted).
		switch c {
		case "011":
		case "001":
			emit(rec("multiengine", "1.0.0", detectors.Incomplete, 0, nil))
		default:
			emit(rec("multiengine", "1.0.0", detectors.Malicious, 2, append([]int{3}, truth...)))
		}
	}
	// A record from another experiment, which the exp1 report must skip.
	other := experiments.Record{
		Schema: experiments.RecordSchema, Experiment: "exp2", Image: "exp2/case-101-add-dummy-layer-s1",
		Case: "101", Mutation: "add-dummy-layer", MutationVersion: "1", Seed: 1,
		Label: experiments.LabelMalicious, MaliciousLayers: []int{8, 10},
		Detector: "hierarchical", DetectorVersion: "0.3.0", Decision: detectors.Malicious,
		Score: 3, Threshold: 1, BlamedLayers: []int{8, 10},
	}
	emit(other)
	// What a run killed in the middle of an append leaves behind.
	fmt.Fprint(os.Stdout, `{"schema":1,"experiment":"exp1","image":"exp1/case-111","manifest_di`)
}
