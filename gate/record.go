package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/scanreport"
)

// DecisionError is the decision of a record whose image could not be
// scanned at all (the registry did not serve it, after every retry). It
// is not clean: an admission check must treat it like any decision it
// does not know.
const DecisionError = "error"

// Job asks a worker to scan one pushed manifest (an image, or an index
// whose platform images are scanned one by one).
type Job struct {
	// Ref is REGISTRY/REPO@sha256:..., the manifest by digest.
	Ref        string `json:"ref"`
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	// Tag is the tag the push named, if any.
	Tag       string `json:"tag,omitempty"`
	MediaType string `json:"media_type,omitempty"`
	// Action is the policy for the repository: ActionRecord or
	// ActionQuarantine (chosen by the process that enqueued the job).
	Action string `json:"action"`
	Source string `json:"source"`
	// EventID is the registry event's ID: a registry retrying a delivery
	// sends the same one.
	EventID    string    `json:"event_id,omitempty"`
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// Record is a verdict as the gate stores it, one per manifest digest.
type Record struct {
	// Digest is the manifest digest (the key).
	Digest     string `json:"digest"`
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	// Tags are every tag seen pushed with this digest.
	Tags []string `json:"tags"`
	// Platform is the image's os/arch[/variant]; empty for an index.
	Platform string `json:"platform,omitempty"`
	// Index is true for a multi-platform index: its Decision is the most
	// severe of its platform images (Children), each with a record of its
	// own.
	Index    bool     `json:"index,omitempty"`
	Children []string `json:"children,omitempty"`
	// Decision is clean, malicious, incomplete, invalid (detectors.Decision)
	// or DecisionError.
	Decision  string  `json:"decision"`
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	// Target is the scan report of the image: layers, findings, issues.
	Target   *scanreport.Target      `json:"target,omitempty"`
	Detector scanreport.DetectorInfo `json:"detector"`
	// EnqueuedAt is when the job was queued, ScannedAt when the verdict
	// was stored; QueueSeconds is the wait from enqueue to scan start.
	EnqueuedAt   time.Time `json:"enqueued_at"`
	ScannedAt    time.Time `json:"scanned_at"`
	ScanSeconds  float64   `json:"scan_seconds"`
	QueueSeconds float64   `json:"queue_seconds"`
	Worker       string    `json:"worker"`
	// Attempts is the delivery of the job that produced the record (1 for
	// the first; more after a worker died or a fetch failed).
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
	// Action is the policy applied (record or quarantine) and Quarantine
	// what quarantining did, when it was asked for.
	Action     string      `json:"action"`
	Quarantine *Quarantine `json:"quarantine,omitempty"`
}

// Quarantine says what the gate did to a malicious image.
type Quarantine struct {
	// Deleted lists the manifests deleted through the registry API.
	Deleted []string  `json:"deleted,omitempty"`
	At      time.Time `json:"at"`
	Error   string    `json:"error,omitempty"`
}

// DetectorID names a detector and its version, the part of a verdict's
// identity besides the digest: a new detector version rescans.
func DetectorID(name, version string) string { return name + "@" + version }

// detectorID is r's DetectorID.
func (r Record) detectorID() string { return DetectorID(r.Detector.Name, r.Detector.Version) }

// final reports whether r is a verdict on the manifest's content: one that
// a rescan by the same detector would repeat, so a new push of the digest
// need not scan it again. Two kinds of record are not final:
//   - an error record (the image could not be scanned at all);
//   - an invalid decision because the registry served a blob that does not
//     hash to the digest the manifest names (digest-mismatch). The manifest
//     is content-addressed, so the bytes were corrupted in storage or in
//     transit, or swapped; pushing the image again may repair the blob.
//     The invalid record stands meanwhile, so admission keeps denying.
//
// An index whose decision is invalid is not final either: its platform
// images decide, and a rescan reuses those whose verdicts are final. An
// invalid decision for another reason (a path that escapes the layer, a
// truncated tar inside a verified blob) is about the content, so it is
// final.
func (r Record) final() bool {
	if r.Error != "" {
		return false
	}
	if r.Decision != string(detectors.Invalid) {
		return true
	}
	if r.Index || r.Target == nil {
		return !r.Index
	}
	mismatch := func(issues []scanreport.Issue) bool {
		for _, is := range issues {
			if is.Kind == string(layers.IssueDigestMismatch) {
				return true
			}
		}
		return false
	}
	if mismatch(r.Target.ConfigIssues) {
		return false
	}
	for _, l := range r.Target.Layers {
		if mismatch(l.Issues) {
			return false
		}
	}
	return true
}

// jobFor makes the job for the manifest ref (REGISTRY/REPO@sha256:...).
func jobFor(ref string) (Job, error) {
	d, err := name.NewDigest(ref)
	if err != nil {
		return Job{}, fmt.Errorf("%q is not REGISTRY/REPO@sha256:DIGEST: %w", ref, err)
	}
	return Job{Ref: d.Name(), Registry: d.RegistryStr(), Repository: d.RepositoryStr(), Digest: d.DigestStr()}, nil
}

// kvKey is the bucket key of a digest: KV keys allow no ':'.
func kvKey(digest string) string { return strings.Replace(digest, ":", "_", 1) }

// severity orders decisions as strata scan's exit code does: malicious >
// invalid (and anything unknown, DecisionError included) > incomplete >
// clean.
func severity(d string) int {
	switch detectors.Decision(d) {
	case detectors.Clean:
		return 0
	case detectors.Incomplete:
		return 1
	case detectors.Malicious:
		return 3
	}
	return 2
}

// addTag adds tag to tags once, keeping them sorted.
func addTag(tags []string, tag string) []string {
	if tag == "" {
		return tags
	}
	for _, t := range tags {
		if t == tag {
			return tags
		}
	}
	tags = append(tags, tag)
	for i := len(tags) - 1; i > 0 && tags[i] < tags[i-1]; i-- {
		tags[i], tags[i-1] = tags[i-1], tags[i]
	}
	return tags
}
