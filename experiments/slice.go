package experiments

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/census"
	"github.com/strata-sec/strata/corpus/wild"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/mutations"
)

// The slice flags; an experiment lists those it accepts in Flags.
const (
	FlagTypes     = "types"
	FlagDetectors = "detectors"
	FlagCases     = "cases"
	FlagSamples   = "samples"
	FlagBenign    = "benign"
	FlagSubjects  = "subjects"
	FlagSplit     = "split"
	// FlagLimit and FlagEcosystem slice the census (corpus/census).
	FlagLimit     = "limit"
	FlagEcosystem = "ecosystem"
)

// SliceFlags are all slice flags, in the order a slice is printed.
var SliceFlags = []string{FlagTypes, FlagDetectors, FlagCases, FlagSamples, FlagBenign, FlagSubjects, FlagSplit, FlagLimit, FlagEcosystem}

// Slice restricts a run to part of an experiment. The zero Slice is the
// whole experiment; a run records its slice in its manifest, and reports
// on a slice say so in their title.
type Slice struct {
	// Types are mutation type names (`strata mutations`).
	Types []string `json:"types,omitempty"`
	// Detectors are detector names; a name also keeps its variants
	// ("hierarchical" keeps the ablation's "hierarchical-only-...").
	Detectors []string `json:"detectors,omitempty"`
	// Cases are layer-presence case bits ("000", "111").
	Cases []string `json:"cases,omitempty"`
	// Samples is the number of seeds per (subject, type); 0 means
	// SamplesPerType.
	Samples int `json:"samples,omitempty"`
	// Benign are corpus/benign image names; "none" means none.
	Benign []string `json:"benign,omitempty"`
	// Subjects are corpus/wild subject names.
	Subjects []string `json:"subjects,omitempty"`
	// Split is a split of corpus/wild ("dev" or "test"); empty means both.
	Split string `json:"split,omitempty"`
	// Limit keeps an ecosystem-proportional prefix of the census's
	// subjects (corpus/census/README.md); 0 keeps all.
	Limit int `json:"limit,omitempty"`
	// Ecosystems are census ecosystems (debian, python, npm, ordinary).
	Ecosystems []string `json:"ecosystems,omitempty"`
}

// IsZero reports whether s is the whole experiment.
func (s Slice) IsZero() bool {
	return len(s.Types) == 0 && len(s.Detectors) == 0 && len(s.Cases) == 0 && s.Samples == 0 && len(s.Benign) == 0 &&
		len(s.Subjects) == 0 && s.Split == "" && s.Limit == 0 && len(s.Ecosystems) == 0
}

// String is the slice as flags ("--types pad-binary --cases 111"), empty
// for the whole experiment.
func (s Slice) String() string {
	var parts []string
	for _, f := range s.set() {
		parts = append(parts, "--"+f[0]+" "+f[1])
	}
	return strings.Join(parts, " ")
}

// set lists the slice's flags that are set, as (flag, value) pairs.
func (s Slice) set() [][2]string {
	var out [][2]string
	add := func(flag string, v []string) {
		if len(v) > 0 {
			out = append(out, [2]string{flag, strings.Join(v, ",")})
		}
	}
	add(FlagTypes, s.Types)
	add(FlagDetectors, s.Detectors)
	add(FlagCases, s.Cases)
	if s.Samples > 0 {
		out = append(out, [2]string{FlagSamples, strconv.Itoa(s.Samples)})
	}
	add(FlagBenign, s.Benign)
	add(FlagSubjects, s.Subjects)
	if s.Split != "" {
		out = append(out, [2]string{FlagSplit, s.Split})
	}
	if s.Limit > 0 {
		out = append(out, [2]string{FlagLimit, strconv.Itoa(s.Limit)})
	}
	add(FlagEcosystem, s.Ecosystems)
	return out
}

// check rejects slice flags e does not accept and names nothing registered.
func (s Slice) check(e Experiment) error {
	for _, f := range s.set() {
		if !slices.Contains(e.Flags(), f[0]) {
			return fmt.Errorf("%s takes no --%s (it takes: --%s)", e.Name(), f[0], strings.Join(e.Flags(), ", --"))
		}
	}
	for _, t := range s.Types {
		if _, err := mutations.Get(t); err != nil {
			return fmt.Errorf("--types: %w (list them with `strata mutations`)", err)
		}
	}
	if _, err := selectCases(s.Cases); err != nil {
		return fmt.Errorf("--cases: %w", err)
	}
	if s.Samples < 0 || s.Samples > SamplesPerType {
		return fmt.Errorf("--samples %d: want 1 to %d", s.Samples, SamplesPerType)
	}
	known := map[string]bool{"none": true}
	for _, im := range benign.Images() {
		known[im.Name] = true
	}
	for _, b := range s.Benign {
		if !known[b] {
			return fmt.Errorf("--benign: unknown benign image %q (see corpus/benign, or \"none\")", b)
		}
	}
	for _, n := range s.Subjects {
		if _, ok := wild.Lookup(n); !ok {
			return fmt.Errorf("--subjects: unknown wild subject %q (see corpus/wild/README.md)", n)
		}
	}
	if s.Split != "" && !slices.Contains(wild.Splits, s.Split) {
		return fmt.Errorf("--split %q: want one of %s", s.Split, strings.Join(wild.Splits, ", "))
	}
	for _, e := range s.Ecosystems {
		if !slices.Contains(census.Ecosystems, e) {
			return fmt.Errorf("--ecosystem: unknown census ecosystem %q (known: %s)", e, strings.Join(census.Ecosystems, ", "))
		}
	}
	if s.Limit < 0 {
		return fmt.Errorf("--limit %d: want a positive number of images", s.Limit)
	}
	return nil
}

// keepsSubject reports whether the slice keeps the wild subject name.
func (s Slice) keepsSubject(name string) bool {
	if len(s.Subjects) > 0 && !slices.Contains(s.Subjects, name) {
		return false
	}
	return s.Split == "" || wild.SplitOf(name) == s.Split
}

// mutations returns the types of all that the slice keeps.
func (s Slice) mutations(all []mutations.Mutation) []mutations.Mutation {
	if len(s.Types) == 0 {
		return all
	}
	return keepNamed(all, func(name string) bool { return slices.Contains(s.Types, name) })
}

// seeds returns the seeds of a run with base seed base, cut to Samples.
func (s Slice) seeds(base int64) []int64 {
	seeds := Exp2Seeds(base)
	if s.Samples > 0 && s.Samples < len(seeds) {
		seeds = seeds[:s.Samples]
	}
	return seeds
}

// detectors returns the detectors of ds the slice keeps; an opt-in
// detector only when named exactly, or, if it runs the sandbox, when
// dynamic (Config.Dynamic) and the slice names no detectors.
func (s Slice) detectors(ds []detectors.Detector, dynamic bool) []detectors.Detector {
	var out []detectors.Detector
	for _, d := range ds {
		if _, opt := d.(optIn); opt {
			_, sb := d.(sandboxed)
			if slices.Contains(s.Detectors, d.Name()) || (dynamic && sb && len(s.Detectors) == 0) {
				out = append(out, d)
			}
			continue
		}
		if len(s.Detectors) == 0 || s.keepsDetector(d.Name()) {
			out = append(out, d)
		}
	}
	return out
}

// runsSandbox reports whether the slice's detectors include one that runs
// the sandbox: with dynamic and no detectors named, or when it names one.
func (s Slice) runsSandbox(dynamic bool) bool {
	if dynamic && len(s.Detectors) == 0 {
		return true
	}
	return slices.Contains(s.Detectors, behaviour.Name) || slices.Contains(s.Detectors, hierarchical.Name+hierarchical.DynamicSuffix)
}

// keepNamed returns the xs (mutation types, detectors) whose name keep
// accepts, in their order.
func keepNamed[T interface{ Name() string }](xs []T, keep func(string) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x.Name()) {
			out = append(out, x)
		}
	}
	return out
}

func (s Slice) keepsDetector(name string) bool {
	for _, w := range s.Detectors {
		if name == w || strings.HasPrefix(name, w+"-") {
			return true
		}
	}
	return false
}

// keepsBenign reports whether the slice keeps the benign corpus image name.
func (s Slice) keepsBenign(name string) bool {
	return len(s.Benign) == 0 || slices.Contains(s.Benign, name)
}
