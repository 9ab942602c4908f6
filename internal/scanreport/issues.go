package scanreport

import (
	"strings"

	"github.com/strata-sec/strata/detectors"
)

// Issue classes.
const (
	// ClassLimit: a scan limit kept content from being read (decision
	// incomplete).
	ClassLimit = "limit"
	// ClassIntegrity: the image failed an integrity check (decision
	// invalid).
	ClassIntegrity = "integrity"
)

// Issue is one reason content was not scanned: which limit or integrity
// problem (Kind, Class), where (Path) and what the detector said (Detail).
type Issue struct {
	// Kind is the walker's issue kind (file-bytes-limit, layer-truncated,
	// digest-mismatch, path-escape, ...) or the detector's own rule
	// (script-too-large).
	Kind  string `json:"kind"`
	Class string `json:"class"`
	// Rule is the not-scanned finding's rule that carried the issue.
	Rule   string `json:"rule"`
	Path   string `json:"path,omitempty"`
	Detail string `json:"detail"`
}

// genericNotScannedRule is the rule detectors use for every walker issue,
// with the kind as the evidence's prefix ("layer-truncated: ...").
const genericNotScannedRule = "not-scanned"

// IssueOf classifies a not-scanned finding; ok is false for other findings.
// The kind is the finding's rule, or, for the generic rule "not-scanned",
// the evidence up to its first ": " (the hierarchical detector writes
// "<walker issue kind>: <detail>"). The class is the detector's: integrity
// when it marked the finding (from layers.Issue.Integrity), limit otherwise.
func IssueOf(f Finding) (is Issue, ok bool) {
	if f.Category != string(detectors.CategoryNotScanned) {
		return Issue{}, false
	}
	is = Issue{Kind: f.Rule, Rule: f.Rule, Path: f.Path, Detail: f.Evidence, Class: ClassLimit}
	if f.Rule == genericNotScannedRule {
		if k, detail, found := strings.Cut(f.Evidence, ": "); found && k != "" && !strings.ContainsAny(k, " \t") {
			is.Kind, is.Detail = k, detail
		}
	}
	if f.Integrity {
		is.Class = ClassIntegrity
	}
	return is, true
}

func issuesOf(fs []Finding) []Issue {
	out := []Issue{}
	for _, f := range fs {
		if is, ok := IssueOf(f); ok {
			out = append(out, is)
		}
	}
	return out
}
