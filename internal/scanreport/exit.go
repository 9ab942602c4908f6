package scanreport

import (
	"fmt"
	"strings"

	"github.com/strata-sec/strata/detectors"
)

// Exit codes of `strata scan`. A scan that fails closed never exits 0
// unless every target is clean (or --fail-on says otherwise).
const (
	ExitClean      = 0 // every target clean
	ExitMalicious  = 1 // some target malicious
	ExitUsage      = 2 // bad flags or arguments, unreadable input, scan error
	ExitIncomplete = 3 // some content was not scanned (a limit)
	ExitInvalid    = 4 // an integrity error: truncated or corrupt layer, digest mismatch, path or link escape
	// ExitInterrupted: SIGINT or SIGTERM stopped the scan (128 + SIGINT,
	// as shells report an interrupted command); nothing is written.
	ExitInterrupted = 130
)

// severity orders decisions for the exit code of several targets:
// malicious > invalid > incomplete > clean. Malicious beats invalid because
// evidence found in what was read stands whatever the unreadable part holds
// (more content can only add evidence), so it is the most definite and most
// actionable answer. Invalid beats incomplete because a corrupt or crafted
// image says something about the image (its bytes are not what its manifest
// claims), while a limit says something about the scan. A decision this
// version does not know counts as invalid: fail closed.
func severity(d string) int {
	switch detectors.Decision(d) {
	case detectors.Clean:
		return 0
	case detectors.Incomplete:
		return 1
	case detectors.Malicious:
		return 3
	default: // detectors.Invalid and anything unknown
		return 2
	}
}

// ExitCode is the exit code one decision asks for.
func ExitCode(d string) int {
	switch severity(d) {
	case 0:
		return ExitClean
	case 1:
		return ExitIncomplete
	case 3:
		return ExitMalicious
	default:
		return ExitInvalid
	}
}

// FailOn says which decisions make `strata scan` exit non-zero: the named
// one and every more severe one (malicious > invalid > incomplete).
type FailOn string

const (
	// FailOnIncomplete, the default, fails closed: anything but clean.
	FailOnIncomplete FailOn = "incomplete"
	// FailOnInvalid tolerates incomplete targets (with a warning).
	FailOnInvalid FailOn = "invalid"
	// FailOnMalicious is the opt-out: incomplete and invalid targets only
	// warn.
	FailOnMalicious FailOn = "malicious"
	// FailOnNever always exits 0 after a scan; every non-clean target warns.
	FailOnNever FailOn = "never"
)

// FailOnValues lists the --fail-on values, strictest first.
var FailOnValues = []FailOn{FailOnIncomplete, FailOnInvalid, FailOnMalicious, FailOnNever}

// ParseFailOn parses a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	for _, f := range FailOnValues {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(FailOnValues))
	for i, f := range FailOnValues {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown --fail-on %q: use one of %s", s, strings.Join(names, ", "))
}

func (f FailOn) fails(d string) bool {
	if f == FailOnNever || severity(d) == 0 {
		return false
	}
	return severity(d) >= severity(string(f))
}

// Outcome is what a report asks the command to do.
type Outcome struct {
	// Code is the exit code: that of the most severe decision failOn
	// fails on, or ExitClean.
	Code int
	// Failed has one line per target that fails ("NAME is malicious").
	Failed []string
	// Warnings has one line per non-clean target failOn lets pass.
	Warnings []string
}

// Outcome applies failOn to the report's targets.
func (r Report) Outcome(failOn FailOn) Outcome {
	var o Outcome
	worst := ""
	for _, t := range r.Targets {
		if severity(t.Decision) == 0 {
			continue
		}
		line := Sanitize(t.Label()) + " is " + Sanitize(t.Decision) + t.reasons()
		if !failOn.fails(t.Decision) {
			o.Warnings = append(o.Warnings, line+" (not failing: --fail-on "+string(failOn)+")")
			continue
		}
		o.Failed = append(o.Failed, line)
		if worst == "" || severity(t.Decision) > severity(worst) {
			worst = t.Decision
		}
	}
	if worst != "" {
		o.Code = ExitCode(worst)
	}
	return o
}

// reasons summarises the target's issues for a one-line message.
func (t Target) reasons() string {
	const max = 3
	var parts []string
	n := 0
	add := func(where string, is []Issue) {
		for _, i := range is {
			if n < max {
				parts = append(parts, where+": "+i.Kind)
			}
			n++
		}
	}
	for _, l := range t.Layers {
		add(fmt.Sprintf("layer %d", l.Index), l.Issues)
	}
	add("config", t.ConfigIssues)
	if n == 0 {
		return ""
	}
	if n > max {
		parts = append(parts, fmt.Sprintf("%d more", n-max))
	}
	return " (" + Sanitize(strings.Join(parts, "; ")) + ")"
}
