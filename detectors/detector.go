package detectors

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Detector decides whether an image is malicious. Implementations must be safe
// for concurrent use and must never pass silently: content they could not
// inspect is reported as a Finding in CategoryNotScanned.
type Detector interface {
	Name() string
	Version() string
	Scan(ctx context.Context, img v1.Image) (Verdict, error)
}

// Decision is the outcome of a scan.
type Decision string

const (
	// Clean: nothing above the detector's threshold and everything was scanned.
	Clean Decision = "clean"
	// Malicious: evidence at or above the detector's threshold.
	Malicious Decision = "malicious"
	// Incomplete: below threshold, but some content was not scanned (a limit
	// was hit), so "clean" cannot be claimed.
	Incomplete Decision = "incomplete"
	// Invalid: the image failed an integrity check (a truncated or corrupt
	// layer, a diffID or digest mismatch, a path or link escaping the root),
	// so its content is not what its manifest claims and nothing read from
	// it can be called clean. Malicious still wins: evidence found in what
	// was read stands whatever the broken part holds.
	Invalid Decision = "invalid"
)

// Category groups findings; the first three are the paper's Table 3 categories.
type Category string

const (
	CategoryBehavior   Category = "behavior"
	CategoryDomainIP   Category = "domain-ip"
	CategoryShell      Category = "shell-script"
	CategoryBinary     Category = "binary"
	CategoryWallet     Category = "wallet"
	CategoryHierarchy  Category = "hierarchy"
	CategorySignature  Category = "signature"
	CategoryNotScanned Category = "not-scanned"
)

// Verdict is what a detector says about one image.
type Verdict struct {
	Decision Decision `json:"decision"`
	// Score is detector specific; Threshold is the score at which Decision
	// becomes Malicious.
	Score     float64   `json:"score"`
	Threshold float64   `json:"threshold"`
	Findings  []Finding `json:"findings,omitempty"`
	// BlamedLayers are the layer indices (0 = bottom layer) the detector holds
	// responsible, sorted ascending. A config-only finding blames no layer.
	BlamedLayers []int `json:"blamed_layers,omitempty"`
	// Info carries detector facts worth recording (engine versions, command
	// lines, signature database digests).
	Info map[string]string `json:"info,omitempty"`
}

// Flagged reports whether the verdict counts as a detection.
func (v Verdict) Flagged() bool { return v.Decision == Malicious }

// NoLayer marks a finding that is not attached to a layer (image config).
const NoLayer = -1

// Finding is one piece of evidence with its provenance.
type Finding struct {
	Category Category `json:"category"`
	Rule     string   `json:"rule"`
	Weight   float64  `json:"weight"`
	Evidence string   `json:"evidence"`
	// Layer is the layer index (0 = bottom) or NoLayer for config evidence.
	Layer     int    `json:"layer"`
	DiffID    string `json:"diff_id,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	// Path is the file the evidence was found in, if any; "config:<field>"
	// for image-config evidence and "history:<i>" for history entries.
	Path string `json:"path,omitempty"`
	// Hidden is true when the file was deleted by a later layer (RemovedBy).
	Hidden    bool `json:"hidden,omitempty"`
	RemovedBy int  `json:"removed_by,omitempty"`
	// Integrity marks a not-scanned finding whose reason is an integrity
	// error (a truncated or corrupt layer, a digest or diffID mismatch,
	// missing diffIDs, an entry escaping the root): see Decide.
	Integrity bool `json:"integrity,omitempty"`
	// Reach says where the evidence lies relative to what the image runs:
	// ReachStartGraph (on its start graph: the config's commands and the
	// files they start, read or unpack), ReachData (a data file: rule sets,
	// documentation, dashboards), or "" (neither, or not known).
	Reach string `json:"reach,omitempty"`
	// Line and Column (1-based) place the evidence in a Dockerfile: the
	// instruction it belongs to (for a build-context file, the ADD or COPY
	// that brings it in). Zero when not known; image detectors leave them
	// unset.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

// Reach values of a Finding.
const (
	ReachStartGraph = "start-graph"
	ReachData       = "data"
)
