package experiments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Merging a detector slice into the committed reference: a run made with
// only --detectors (every image, some detectors) replaces those detectors'
// records in results/<exp> and keeps every other record byte for byte. It is
// how a new or changed detector joins a result set without rescanning the
// others (the sandbox detectors of experiment 3 cost ten minutes; the rest
// an hour). The merge refuses unless the run scanned exactly the images of
// the reference, by manifest digest: records of two builds never share a
// table.

// Merge is one detector slice merged into a result set (run.json
// "merged"): which run, which detectors, from what revision, where.
type Merge struct {
	Run       string    `json:"run"`
	Detectors []string  `json:"detectors"`
	Strata    string    `json:"strata,omitempty"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	Machine   Machine   `json:"machine"`
}

// PromoteDetectors merges the detector slice runDir into
// resultsDir/<experiment> (see above) and rewrites its report. It returns
// the result set's directory.
func PromoteDetectors(runDir, resultsDir string) (string, error) {
	man, err := ReadManifest(runDir)
	if err != nil {
		return "", fmt.Errorf("%s is not a run: %w", runDir, err)
	}
	if man.Finished.IsZero() {
		return "", fmt.Errorf("%s did not finish: resume it with `strata experiment %s %s --results` or run it again", runDir, man.Experiment, man.Slice)
	}
	if len(man.Slice.Detectors) == 0 || !(Slice{Detectors: man.Slice.Detectors}).equal(man.Slice) {
		return "", fmt.Errorf("%s is not a detector slice (%q): only a run restricted by --detectors alone can be merged; promote a whole run without --merge", runDir, man.Slice)
	}
	dst := filepath.Join(resultsDir, man.Experiment)
	ref, err := ReadManifest(dst)
	if err != nil {
		return "", fmt.Errorf("no reference to merge into: %w (promote a whole run of %s first)", err, man.Experiment)
	}
	keep := func(detector string) bool { return !man.Slice.keepsDetector(detector) }

	runLines, err := recordLines(filepath.Join(runDir, RecordsFile))
	if err != nil {
		return "", err
	}
	refLines, err := recordLines(filepath.Join(dst, RecordsFile))
	if err != nil {
		return "", err
	}
	if err := sameImages(runLines, refLines); err != nil {
		return "", fmt.Errorf("%s and %s: %w; promote a whole run instead", runDir, dst, err)
	}
	for _, l := range runLines {
		if keep(l.Detector) {
			return "", fmt.Errorf("%s holds records of %s, which its slice %q does not name", runDir, l.Detector, man.Slice)
		}
	}
	merged := mergeLines(refLines, runLines, keep)

	// The ablation's records follow their detector: a slice that ran one
	// brings them along; otherwise the reference's stay.
	var mergedAblation []recordLine
	runAbl, err := recordLines(filepath.Join(runDir, AblationFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", err
	default:
		refAbl, err := recordLines(filepath.Join(dst, AblationFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		mergedAblation = mergeLines(refAbl, runAbl, keep)
	}

	for _, d := range man.Detectors {
		if !man.Slice.keepsDetector(d.Name) {
			continue
		}
		if i := slices.IndexFunc(ref.Detectors, func(r DetectorInfo) bool { return r.Name == d.Name }); i >= 0 {
			ref.Detectors[i] = d
		} else {
			ref.Detectors = append(ref.Detectors, d)
		}
	}
	if man.DynamicTimeout != "" {
		ref.DynamicTimeout = man.DynamicTimeout
	}
	ref.Merged = append(ref.Merged, Merge{
		Run: man.Run, Detectors: man.Slice.Detectors, Strata: man.Strata,
		Started: man.Started, Finished: man.Finished, Machine: man.Machine,
	})

	if err := writeLines(filepath.Join(dst, RecordsFile), merged); err != nil {
		return "", err
	}
	if mergedAblation != nil {
		if err := writeLines(filepath.Join(dst, AblationFile), mergedAblation); err != nil {
			return "", err
		}
	}
	if err := ref.write(dst); err != nil {
		return "", err
	}
	rep, err := ReportDir(man.Experiment, dst)
	if err != nil {
		return "", err
	}
	return dst, rep.WriteDir(dst)
}

// equal reports whether two slices restrict the same way.
func (s Slice) equal(o Slice) bool { return s.String() == o.String() }

// recordLine is one line of a record file, kept as written, with the
// fields a merge needs.
type recordLine struct {
	raw            []byte
	Image          string `json:"image"`
	ManifestDigest string `json:"manifest_digest"`
	Detector       string `json:"detector"`
}

// recordLines reads a record file's lines; a partial last line is an error
// here (a merge must not carry a cut record into the reference).
func recordLines(path string) ([]recordLine, error) {
	var out []recordLine
	err := eachLine(path, func(n int, line []byte, _ bool) error {
		l := recordLine{raw: bytes.TrimSpace(line)}
		if err := json.Unmarshal(l.raw, &l); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// sameImages checks that two record sets scanned the same images, each
// with the same manifest digest.
func sameImages(run, ref []recordLine) error {
	digests := func(ls []recordLine) (map[string]string, error) {
		m := map[string]string{}
		for _, l := range ls {
			if d, ok := m[l.Image]; ok && d != l.ManifestDigest {
				return nil, fmt.Errorf("%s has two manifest digests (%s, %s)", l.Image, d, l.ManifestDigest)
			}
			m[l.Image] = l.ManifestDigest
		}
		return m, nil
	}
	a, err := digests(run)
	if err != nil {
		return err
	}
	b, err := digests(ref)
	if err != nil {
		return err
	}
	for img, d := range b {
		switch ad, ok := a[img]; {
		case !ok:
			return fmt.Errorf("the run did not scan %s", img)
		case ad != d:
			return fmt.Errorf("%s was built differently (%s in the run, %s in the reference)", img, ad, d)
		}
	}
	for img := range a {
		if _, ok := b[img]; !ok {
			return fmt.Errorf("the reference has no %s", img)
		}
	}
	return nil
}

// mergeLines keeps ref's lines whose detector keep accepts, in order, then
// appends run's.
func mergeLines(ref, run []recordLine, keep func(string) bool) []recordLine {
	out := make([]recordLine, 0, len(ref)+len(run))
	for _, l := range ref {
		if keep(l.Detector) {
			out = append(out, l)
		}
	}
	return append(out, run...)
}

// writeLines replaces path with the lines, through a temporary file.
func writeLines(path string, ls []recordLine) error {
	var buf bytes.Buffer
	for _, l := range ls {
		buf.Write(l.raw)
		buf.WriteByte('\n')
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
