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
// need not scan it again. Not final:
//   - an error record (the image could not be scanned at all);
//   - an invalid decision unless every integrity issue it names is about
//     the content itself (an entry escaping its layer, diffIDs missing
//     from the config). A blob that does not hash to the digest the
//     manifest names (digest-mismatch) or that ends early (layer-truncated:
//     a connection cut mid-blob looks the same as a truncated tar, and the
//     blob's digest was never checked) may be a fault of storage, a proxy
//     or the network, which a later push or repair can mend; so may an
//     invalid record whose issues were left out of its report. The invalid
//     record stands meanwhile, so admission keeps denying;
//   - an index whose decision is invalid: its platform images decide, and
//     a rescan reuses those whose verdicts are final.
func (r Record) final() bool {
	if r.Error != "" {
		return false
	}
	if r.Decision != string(detectors.Invalid) {
		return true
	}
	if r.Index || r.Target == nil {
		return false
	}
	content := 0
	check := func(issues []scanreport.Issue) bool {
		for _, is := range issues {
			if is.Class != scanreport.ClassIntegrity {
				continue
			}
			if !contentIssues[layers.IssueKind(is.Kind)] {
				return false
			}
			content++
		}
		return true
	}
	if !check(r.Target.ConfigIssues) {
		return false
	}
	for _, l := range r.Target.Layers {
		if !check(l.Issues) {
			return false
		}
	}
	return content > 0
}

// contentIssues are the integrity issues a rescan of the same manifest
// always finds again: they are in bytes that hash to their digests.
var contentIssues = map[layers.IssueKind]bool{layers.IssuePathEscape: true, layers.IssueDiffIDMissing: true}

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
