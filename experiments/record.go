package experiments

import "github.com/strata-sec/strata/detectors"

// RecordSchema is bumped whenever a field changes meaning.
const RecordSchema = 1

// Record is one line of results/<exp>/records.jsonl: one (image, detector)
// pair. Records are raw facts; every table and figure is derived from them by
// `strata report`.
type Record struct {
	Schema     int    `json:"schema"`
	Experiment string `json:"experiment"`
	// Image identity.
	Image          string   `json:"image"`           // store name, e.g. "exp1/case-101"
	ManifestDigest string   `json:"manifest_digest"` // sha256:...
	ConfigDigest   string   `json:"config_digest"`
	Layers         []string `json:"layers"` // diffIDs, bottom first
	// Ground truth.
	Case            string `json:"case"` // layer-presence bits for layers 8,9,10, e.g. "101"
	Mutation        string `json:"mutation,omitempty"`
	MutationVersion string `json:"mutation_version,omitempty"`
	Seed            int64  `json:"seed"`
	Label           string `json:"label"`            // "malicious" or "benign"
	MaliciousLayers []int  `json:"malicious_layers"` // layer indices, bottom = 0
	// Detector outcome.
	Detector        string              `json:"detector"`
	DetectorVersion string              `json:"detector_version"`
	Decision        detectors.Decision  `json:"decision"`
	Score           float64             `json:"score"`
	Threshold       float64             `json:"threshold"`
	BlamedLayers    []int               `json:"blamed_layers"`
	Findings        []detectors.Finding `json:"findings,omitempty"`
	Info            map[string]string   `json:"info,omitempty"`
	ScanMillis      int64               `json:"scan_ms"`
	Error           string              `json:"error,omitempty"`
}

// Malicious reports the ground-truth label.
func (r Record) Malicious() bool { return r.Label == LabelMalicious }

// Flagged reports whether the detector flagged the image.
func (r Record) Flagged() bool { return r.Decision == detectors.Malicious }

const (
	LabelMalicious = "malicious"
	LabelBenign    = "benign"
)
