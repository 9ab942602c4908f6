package experiments

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/strata-sec/strata/detectors"
)

// Experiment is one named experiment. Run drives every experiment through
// the same lifecycle (prepare -> build -> scan -> record -> report); an
// experiment only says what it builds and scans (Plan) and how its records
// become tables (Report). Adding an experiment is one file that calls
// Register in init.
type Experiment interface {
	// Name is the command-line and record name ("exp1").
	Name() string
	// Summary says in one line what the experiment measures.
	Summary() string
	// Flags lists the slice flags the experiment accepts (FlagCases, ...).
	Flags() []string
	// Plan builds (or finds in the store) the experiment's images of the
	// run's slice and says what to scan with which detectors.
	Plan(ctx context.Context, env *Env) (*Plan, error)
	// Report derives tables and figures from the record files in dir,
	// restricted to what slice s asked for.
	Report(dir string, s Slice) (*Report, error)
}

// Plan is what an experiment's Plan built: the scan passes, each appending
// records to one file of the run, and the not-applicable list.
type Plan struct {
	Passes []Pass
	// NotApplicable is written to NotApplicableFile when WritesNotApplicable.
	NotApplicable       []NotApplicable
	WritesNotApplicable bool
	// Built and Skipped count images for the log line of the build phase.
	Built, Skipped int
	// Files are written into the run's directory before the scans (the
	// census's time and disk figures), by file name.
	Files map[string][]byte
}

// Pass scans Images with the detectors Detectors picks from the run's set
// and appends the records (Experiment field set to Experiment) to File.
type Pass struct {
	File       string
	Experiment string
	Images     []Built
	Detectors  func(*DetectorSet) []detectors.Detector
}

// allDetectors is the Pass.Detectors of an ordinary scan: the set's
// detectors and the opt-in ones, which the slice drops unless named.
func allDetectors(s *DetectorSet) []detectors.Detector {
	return append(slices.Clip(s.Detectors), s.OptIn()...)
}

var (
	registryMu sync.Mutex
	registry   = map[string]Experiment{}
)

// Register adds e to the registry; a duplicate name panics, as it is a
// programming error found by any test.
func Register(e Experiment) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[e.Name()]; dup {
		panic("experiments: duplicate experiment " + e.Name())
	}
	for _, f := range e.Flags() {
		if !slices.Contains(SliceFlags, f) {
			panic(fmt.Sprintf("experiments: %s accepts unknown slice flag %q", e.Name(), f))
		}
	}
	registry[e.Name()] = e
}

// All returns the registered experiments sorted by name.
func All() []Experiment {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := make([]Experiment, 0, len(registry))
	for _, e := range registry {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Names returns the registered experiments' names, sorted.
func Names() []string {
	var out []string
	for _, e := range All() {
		out = append(out, e.Name())
	}
	return out
}

// Get returns the experiment called name.
func Get(name string) (Experiment, error) {
	registryMu.Lock()
	e, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown experiment %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return e, nil
}
