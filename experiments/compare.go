package experiments

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Comparison is what Compare found between a run and a reference (the
// committed results/<exp>) at the level that matters for the paper's
// claims: decisions, scores and blamed layers of every (image, detector).
type Comparison struct {
	Experiment string
	Slice      Slice
	// Compared counts the (file, image, detector) keys present in both;
	// Agree those with equal decision, score and blamed layers.
	Compared, Agree int
	Disagreements   []Disagreement
	// Missing are keys of the reference the run lacks (a whole run only:
	// a slice is compared on what it ran); New are keys only the run has
	// (a new mutation type, say), which do not fail the comparison.
	Missing, New []string
	// LayerDiffs counts, per layer index, the compared keys whose layer
	// diffID differs: digests may differ while every decision agrees.
	LayerDiffs map[int]int
	// Packages lists the base image's package differences
	// ("name reference-version -> run-version"), when both sides have a
	// manifest; NoRefManifest says the reference has none.
	Packages      []string
	NoRefManifest bool
}

// Disagreement is one (image, detector) whose outcome changed.
type Disagreement struct {
	File, Image, Detector string
	// Field is "decision", "score" or "blamed layers".
	Field    string
	Ref, Run string
}

func (d Disagreement) String() string {
	return fmt.Sprintf("%s %s %s: %s %s -> %s", d.File, d.Image, d.Detector, d.Field, d.Ref, d.Run)
}

// Reproduced reports whether the run gave the reference's outcomes.
func (c *Comparison) Reproduced() bool {
	return len(c.Disagreements) == 0 && len(c.Missing) == 0 && c.Compared > 0
}

// compareFiles are the record files Compare reads on both sides.
var compareFiles = []string{RecordsFile, AblationFile}

// CompareDirs compares the record files of the run in runDir with those of
// the reference in refDir.
func CompareDirs(runDir, refDir string) (*Comparison, error) {
	man, err := ReadManifest(runDir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a run (strata experiment writes one under runs/): %w", runDir, err)
	}
	run, ref := map[string][]Record{}, map[string][]Record{}
	for _, f := range compareFiles {
		for _, side := range []struct {
			dir string
			out map[string][]Record
		}{{runDir, run}, {refDir, ref}} {
			recs, err := ReadRecords(filepath.Join(side.dir, f))
			var partial *PartialLineError
			switch {
			case errors.Is(err, os.ErrNotExist) && f != RecordsFile:
				continue
			case errors.As(err, &partial):
				// the complete records count; an interrupted run is also
				// missing keys, which Compare reports
			case err != nil:
				return nil, err
			}
			side.out[f] = recs
		}
	}
	c := Compare(run, ref, man.Slice)
	c.Experiment = man.Experiment
	refMan, err := ReadManifest(refDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.NoRefManifest = true
	case err != nil:
		return nil, err
	default:
		c.Packages = packageDiff(refMan.Inputs.BasePackages, man.Inputs.BasePackages)
	}
	return c, nil
}

// Compare compares run with ref, each a map from record file name to its
// records. Keys are (file, image, detector); a repeated key counts its last
// record. With a non-zero slice, keys of ref the run did not try are not
// missing.
func Compare(run, ref map[string][]Record, s Slice) *Comparison {
	c := &Comparison{Slice: s, LayerDiffs: map[int]int{}}
	type key struct{ file, image, detector string }
	index := func(m map[string][]Record) map[key]Record {
		out := map[key]Record{}
		for f, recs := range m {
			for _, r := range recs {
				out[key{f, r.Image, r.Detector}] = r
			}
		}
		return out
	}
	runs, refs := index(run), index(ref)
	keys := make([]key, 0, len(runs)+len(refs))
	for k := range runs {
		keys = append(keys, k)
	}
	for k := range refs {
		if _, ok := runs[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.file+"\x00"+a.image+"\x00"+a.detector < b.file+"\x00"+b.image+"\x00"+b.detector
	})
	for _, k := range keys {
		r, inRun := runs[k]
		f, inRef := refs[k]
		name := k.file + " " + k.image + " " + k.detector
		switch {
		case !inRef:
			c.New = append(c.New, name)
			continue
		case !inRun:
			if s.IsZero() {
				c.Missing = append(c.Missing, name)
			}
			continue
		}
		c.Compared++
		before := len(c.Disagreements)
		add := func(field, a, b string) {
			c.Disagreements = append(c.Disagreements, Disagreement{File: k.file, Image: k.image, Detector: k.detector, Field: field, Ref: a, Run: b})
		}
		if f.Decision != r.Decision {
			add("decision", string(f.Decision), string(r.Decision))
		}
		if math.Abs(f.Score-r.Score) > 1e-9 {
			add("score", strconv.FormatFloat(f.Score, 'g', -1, 64), strconv.FormatFloat(r.Score, 'g', -1, 64))
		}
		if !slices.Equal(f.BlamedLayers, r.BlamedLayers) {
			add("blamed layers", fmt.Sprint(nonNil(f.BlamedLayers)), fmt.Sprint(nonNil(r.BlamedLayers)))
		}
		if len(c.Disagreements) == before {
			c.Agree++
		}
		if len(f.Layers) > 0 && len(r.Layers) > 0 {
			for i := range max(len(f.Layers), len(r.Layers)) {
				if i >= len(f.Layers) || i >= len(r.Layers) || f.Layers[i] != r.Layers[i] {
					c.LayerDiffs[i]++
				}
			}
		}
	}
	return c
}

// packageDiff lists what changed between two sorted name=version lists.
func packageDiff(ref, run []string) []string {
	split := func(list []string) map[string]string {
		m := map[string]string{}
		for _, p := range list {
			n, v, _ := strings.Cut(p, "=")
			m[n] = v
		}
		return m
	}
	a, b := split(ref), split(run)
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	var out []string
	for _, n := range sortedKeys(names) {
		va, inA := a[n]
		vb, inB := b[n]
		switch {
		case !inA:
			out = append(out, n+" (new) "+vb)
		case !inB:
			out = append(out, n+" "+va+" (gone)")
		case va != vb:
			out = append(out, n+" "+va+" -> "+vb)
		}
	}
	return out
}

// WriteVerdict writes the comparison's verdict line, then up to limit
// disagreements and missing keys (all when limit <= 0), then what explains
// digest differences.
func (c *Comparison) WriteVerdict(w io.Writer, limit int) error {
	var b strings.Builder
	what := c.Experiment
	if !c.Slice.IsZero() {
		what += " (slice " + c.Slice.String() + ")"
	}
	verdict := "REPRODUCED"
	if !c.Reproduced() {
		verdict = "NOT REPRODUCED"
	}
	fmt.Fprintf(&b, "%s: %s/%s records agree", what, thousands(c.Agree), thousands(c.Compared))
	if len(c.Missing) > 0 {
		fmt.Fprintf(&b, "; %s missing from the run", thousands(len(c.Missing)))
	}
	if len(c.New) > 0 {
		fmt.Fprintf(&b, "; %s not in the reference (not compared)", thousands(len(c.New)))
	}
	fmt.Fprintf(&b, "; %s; %s\n", c.layerSummary(), verdict)
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "  %s (%d):\n", title, len(items))
		for i, it := range items {
			if limit > 0 && i == limit {
				fmt.Fprintf(&b, "    ... %d more (-v lists all)\n", len(items)-limit)
				break
			}
			fmt.Fprintf(&b, "    %s\n", it)
		}
	}
	var ds []string
	for _, d := range c.Disagreements {
		ds = append(ds, d.String())
	}
	list("disagreements (reference -> run)", ds)
	list("missing from the run", c.Missing)
	if len(c.LayerDiffs) > 0 {
		list("base packages that differ (reference -> run)", c.Packages)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// layerSummary says which layer digests differ, and why if it is known.
func (c *Comparison) layerSummary() string {
	if len(c.LayerDiffs) == 0 {
		return "layer digests identical"
	}
	var idx []int
	for i := range c.LayerDiffs {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	noun := "layers "
	if len(idx) == 1 {
		noun = "layer "
	}
	s := "digests differ in " + noun + intRanges(idx) + " only"
	switch {
	case c.NoRefManifest:
		s += " (the reference has no run.json, so base packages cannot be compared)"
	case len(c.Packages) > 0:
		s += fmt.Sprintf(" (the Debian base was built from %d different package versions, listed below)", len(c.Packages))
	default:
		s += " (same base packages)"
	}
	return s
}

// intRanges writes sorted ints as "0-1, 8".
func intRanges(xs []int) string {
	var parts []string
	for i := 0; i < len(xs); {
		j := i
		for j+1 < len(xs) && xs[j+1] == xs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", xs[i], xs[j]))
		} else {
			parts = append(parts, strconv.Itoa(xs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// thousands writes n with comma separators: 1,600.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// LatestRun returns the newest run of experiment exp under runsDir.
func LatestRun(runsDir, exp string) (string, error) {
	entries, err := os.ReadDir(runsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var best string
	var bestMan *Manifest
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(runsDir, e.Name())
		m, err := ReadManifest(dir)
		if err != nil || m.Experiment != exp {
			continue
		}
		if bestMan == nil || m.Started.After(bestMan.Started) || (m.Started.Equal(bestMan.Started) && dir > best) {
			best, bestMan = dir, m
		}
	}
	if best == "" {
		return "", fmt.Errorf("no run of %s under %s: run `strata experiment %s` first", exp, runsDir, exp)
	}
	return best, nil
}

// Promote makes the whole-experiment run in runDir the reference in
// <resultsDir>/<exp>: its record files, learned signatures and manifest
// replace the reference's, and the report is derived again there. A slice
// is refused: its files are not whole-experiment files.
func Promote(runDir, resultsDir string) (string, error) {
	man, err := ReadManifest(runDir)
	if err != nil {
		return "", fmt.Errorf("%s is not a run: %w", runDir, err)
	}
	if !man.Slice.IsZero() {
		hint := fmt.Sprintf("run `strata experiment %s` without slice flags", man.Experiment)
		if man.Slice.detectorsOnly() {
			hint = "or merge its detectors into the reference with `strata promote --merge`"
		}
		return "", fmt.Errorf("%s is a slice (%s): only a whole-experiment run can become the reference; %s", runDir, man.Slice, hint)
	}
	if man.Finished.IsZero() {
		return "", fmt.Errorf("%s did not finish: resume it with `strata experiment %s --results` or run it again", runDir, man.Experiment)
	}
	dst := filepath.Join(resultsDir, man.Experiment)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(runDir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(runDir, e.Name()))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return "", err
		}
	}
	// A file of the old reference the run does not have (ablation.jsonl
	// of a run before ablation existed) must not survive as if current.
	for _, f := range []string{AblationFile, NotApplicableFile} {
		if _, err := os.Stat(filepath.Join(runDir, f)); errors.Is(err, os.ErrNotExist) {
			if err := os.Remove(filepath.Join(dst, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
	}
	rep, err := ReportDir(man.Experiment, dst)
	if err != nil {
		return "", err
	}
	return dst, rep.WriteDir(dst)
}
