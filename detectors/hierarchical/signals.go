package hierarchical

import (
	"fmt"
	"sort"
	"strings"
)

// Signals. Every rule belongs to one signal (Rule.Signal); a Detector can be
// restricted to some of them (WithSignals), e.g. to measure what each kind of
// evidence contributes. Findings of a switched-off signal are not produced,
// not scored and not used by the hierarchy rules' correlation or by blame.
// The rules of SignalNotScanned ("content was not scanned") are always on.
//
// A signal switches its rules' findings, not the matchers behind them: a rule
// may look at the same text as another signal's rule (persistence-miner, a
// behavior rule, recognises a cron command as mining by its pool URL even
// when the network signal is off).
const (
	SignalBehavior   = "behavior"   // miner programs run, options, persistence, competitor killing, evasion
	SignalNetwork    = "network"    // domain-ip rules: stratum URLs, pool domains and ports, miner repositories
	SignalShell      = "shell"      // shell tradecraft: curl|sh, base64|sh, nohup, hugepages/msr, chmod+exec
	SignalBinary     = "binary"     // content of ELF files and code: protocol strings, algorithms, agents, packing
	SignalHash       = "hash"       // fuzzy (TLSH) and exact hashes against known samples
	SignalWallet     = "wallet"     // wallet addresses
	SignalHierarchy  = "hierarchy"  // cross-layer and config correlation
	SignalStartGraph = "startgraph" // what the image runs: evidence on the start graph, run-time fetch-and-execute
	SignalNotScanned = "not-scanned"
)

var allSignals = []string{SignalBehavior, SignalBinary, SignalHash, SignalHierarchy, SignalNetwork, SignalShell, SignalStartGraph, SignalWallet}

// AllSignals returns the names of the switchable signals, sorted.
func AllSignals() []string { return append([]string(nil), allSignals...) }

func isSignal(s string) bool {
	for _, a := range allSignals {
		if a == s {
			return true
		}
	}
	return false
}

// ParseSignals parses a comma-separated list of signal names ("" or "all"
// means every signal). Names are trimmed and deduplicated; the result is
// sorted. An unknown name is an error that lists the valid ones.
func ParseSignals(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return AllSignals(), nil
	}
	set := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "all":
			return AllSignals(), nil
		case f == "":
			continue
		case !isSignal(f):
			return nil, fmt.Errorf("hierarchical: unknown signal %q (valid: %s, or all)", f, strings.Join(allSignals, ", "))
		}
		set[f] = true
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("hierarchical: no signal in %q (valid: %s, or all)", s, strings.Join(allSignals, ", "))
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out, nil
}

// WithSignals restricts the detector to the named signals (see AllSignals;
// "all" or no name at all means every signal). Signals only filter findings
// after the walk: the layer cache is shared by every setting, and a cached
// scan with some signals equals a cold scan with the same signals. An unknown
// name makes Scan fail; use ParseSignals to check user input first.
func WithSignals(names ...string) Option {
	return func(o *options) {
		list, err := ParseSignals(strings.Join(names, ","))
		if err != nil {
			o.signalErr = err
			return
		}
		o.signalErr = nil
		o.signals = map[string]bool{}
		for _, s := range list {
			o.signals[s] = true
		}
	}
}

// Signals returns the detector's enabled signals, sorted.
func (d *Detector) Signals() []string {
	var out []string
	for _, s := range allSignals {
		if d.opts.signalOn(s) {
			out = append(out, s)
		}
	}
	return out
}

// signalOn reports whether a signal's rules produce findings.
func (o *options) signalOn(s string) bool {
	return s == SignalNotScanned || o.signals == nil || o.signals[s]
}
