// Command gen writes the synthetic exp2 records used by the report golden
// tests. See ../README.md for what the records contain and why.
//
//	go run ./experiments/testdata/exp2/gen > experiments/testdata/exp2/records.jsonl
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/experiments"
)

// mutation describes what a synthetic mutation type does to the layer stack
// of a case image (base 0, benign 1-7, the present malicious layers on top).
type mutation struct {
	name string
	// insertAt is the index a dummy layer is inserted at (-1: none), which
	// shifts every layer at or above it up by one; top is how many layers
	// are added on top; squash flattens the image to one layer.
	insertAt, top int
	squash        bool
	// digestLayerSees: the malicious layers' diffIDs survive the mutation,
	// so the digest-layer baseline still matches them.
	digestLayerSees bool
}

var mutations = []mutation{
	{name: "add-dummy-layer", insertAt: -1, top: 2, digestLayerSees: true},
	{name: "conditional-layer", insertAt: 6}, // only for odd seeds, see layersOf
	{name: "dummy-echo", insertAt: -1, top: 1, digestLayerSees: true},
	{name: "dummy-network", insertAt: -1, top: 1, digestLayerSees: true},
	{name: "inject-dummy-layer", insertAt: 4},
	{name: "random-env", insertAt: -1, digestLayerSees: true},
	{name: "random-fs-change", insertAt: 2},
	{name: "random-label", insertAt: -1, digestLayerSees: true},
	{name: "squash", insertAt: -1, squash: true},
	{name: "variable-workdir", insertAt: -1, digestLayerSees: true},
}

// layersOf returns the number of layers of the mutated image and the
// indices of its malicious layers.
func layersOf(c string, m mutation, seed int64) (int, []int) {
	var truth []int
	n := 8
	for _, bit := range c {
		if bit == '1' {
			truth = append(truth, n)
			n++
		}
	}
	if m.squash {
		if len(truth) > 0 {
			return 1, []int{0}
		}
		return 1, nil
	}
	insert := m.insertAt
	if m.name == "conditional-layer" && seed%2 == 0 {
		insert = -1 // the coin said no
	}
	if insert >= 0 {
		n++
		for i := range truth {
			if truth[i] >= insert {
				truth[i]++
			}
		}
	}
	return n + m.top, truth
}

func main() {
	enc := json.NewEncoder(os.Stdout)
	emit := func(r experiments.Record) {
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for _, m := range mutations {
		for i := range 8 {
			c := fmt.Sprintf("%03b", i)
			for seed := int64(1); seed <= 5; seed++ {
				n, truth := layersOf(c, m, seed)
				label := experiments.LabelMalicious
				if c == "000" {
					label = experiments.LabelBenign
				}
				base := experiments.Record{
					Schema: experiments.RecordSchema, Experiment: "exp2",
					Image: fmt.Sprintf("exp2/case-%s/%s/seed-%d", c, m.name, seed),
					Case:  c, Mutation: m.name, MutationVersion: "1", Seed: seed,
					Label: label, MaliciousLayers: truth,
				}
				rec := func(det, ver string, d detectors.Decision, score float64, blamed []int) experiments.Record {
					r := base
					r.Detector, r.DetectorVersion, r.Decision, r.Score, r.Threshold = det, ver, d, score, 1
					r.BlamedLayers = blamed
					r.ScanMillis = 100
					return r
				}
				malicious := len(truth) > 0
				v := fmt.Sprintf("%s/%s/%d", c, m.name, seed)

				// digest-image: every mutation changes the image digest, so
				// it never matches; one scan failed.
				if v == "010/squash/3" {
					r := rec("digest-image", "1.0.0", "", 0, nil)
					r.Error = "read manifest: unexpected EOF"
					emit(r)
				} else {
					emit(rec("digest-image", "1.0.0", detectors.Clean, 0, nil))
				}

				// digest-layer: matches while the malicious layers' diffIDs
				// survive; conditional-layer keeps them for even seeds.
				sees := m.digestLayerSees || (m.name == "conditional-layer" && seed%2 == 0)
				if malicious && sees {
					emit(rec("digest-layer", "1.0.0", detectors.Malicious, float64(len(truth)), truth))
				} else {
					emit(rec("digest-layer", "1.0.0", detectors.Clean, 0, nil))
				}

				// hierarchical: flags every malicious variant but one, blames
				// its malicious layers (one blames only the first), flags one
				// benign variant (the dummy download looks like a payload
				// fetch), and was scanned twice for one variant (the first
				// run said clean) and once by a newer version.
				hver := "0.3.0"
				if v == "111/variable-workdir/5" {
					hver = "0.3.1"
				}
				switch {
				case v == "001/squash/4":
					emit(rec("hierarchical", hver, detectors.Clean, 0.8, nil))
				case v == "000/dummy-network/2":
					emit(rec("hierarchical", hver, detectors.Malicious, 1.2, []int{n - 1}))
				case v == "110/random-fs-change/5":
					emit(rec("hierarchical", hver, detectors.Malicious, 2, truth[:1]))
				case v == "101/inject-dummy-layer/1":
					emit(rec("hierarchical", hver, detectors.Clean, 0.4, nil))
					emit(rec("hierarchical", hver, detectors.Malicious, 3, truth))
				case malicious:
					emit(rec("hierarchical", hver, detectors.Malicious, 3, truth))
				default:
					emit(rec("hierarchical", hver, detectors.Clean, 0.1, nil))
				}

				// multiengine: engines fire on the miner binary (layer 9) and
				// the script layer (layer 10), not on the source clone alone
				// (case 100); squashing hides the lone script layer (case
				// 001). A YARA rule also fires on benign layer 3 (a PHP
				// crypto library) under dummy-echo, and on the dummy
				// download, which flags the benign case. Two engines agree
				// only when binary and script are both there. One scan hit a
				// size limit, one record is missing (run interrupted).
				if v == "011/random-label/5" {
					continue
				}
				if v == "111/squash/1" {
					r := rec("multiengine", "1.0.0", detectors.Incomplete, 0, nil)
					r.Info = map[string]string{"verdict_1plus": string(detectors.Incomplete), experiments.InfoVerdict2Plus: string(detectors.Incomplete)}
					emit(r)
					continue
				}
				hit := (c[1] == '1' || c[2] == '1') && !(m.squash && c == "001")
				// Re-packing the binary layer (odd seeds) and random text in
				// the script layer (seeds 1-3) defeat some signatures.
				if (m.name == "inject-dummy-layer" || m.name == "random-fs-change") && c == "010" && seed%2 == 1 {
					hit = false
				}
				if m.name == "dummy-echo" && c == "001" && seed <= 3 {
					hit = false
				}
				fp := c == "000" && m.name == "dummy-network"
				var blamed []int
				if hit {
					blamed = slices.Clone(truth)
					if m.name == "dummy-echo" && !m.squash {
						blamed = append([]int{3}, blamed...)
					}
				}
				if fp {
					blamed = []int{n - 1}
				}
				r := rec("multiengine", "1.0.0", detectors.Clean, 0, nil)
				if hit || fp {
					r = rec("multiengine", "1.0.0", detectors.Malicious, 1, blamed)
				}
				two := detectors.Clean
				if hit && strings.HasSuffix(c, "11") {
					two = detectors.Malicious
				}
				r.Info = map[string]string{"verdict_1plus": string(r.Decision), experiments.InfoVerdict2Plus: string(two)}
				emit(r)
			}
		}
	}
	// A record from another experiment, which the exp2 report must skip.
	emit(experiments.Record{
		Schema: experiments.RecordSchema, Experiment: "exp1", Image: "exp1/case-111", Case: "111",
		Label: experiments.LabelMalicious, MaliciousLayers: []int{8, 9, 10},
		Detector: "hierarchical", DetectorVersion: "0.3.0", Decision: detectors.Malicious,
		Score: 3, Threshold: 1, BlamedLayers: []int{8, 9, 10},
	})
}
