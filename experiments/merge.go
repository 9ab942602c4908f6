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
		return "", fmt.Errorf("%s did not finish: run `strata experiment %s %s` again", runDir, man.Experiment, man.Slice)
	}
	if !man.Slice.detectorsOnly() {
		return "", fmt.Errorf("%s is not a detector slice (%q): only a run restricted by --detectors alone can be merged; promote a whole run without --merge", runDir, man.Slice)
	}
	dst := filepath.Join(resultsDir, man.Experiment)
	ref, err := ReadManifest(dst)
	if err != nil {
		return "", fmt.Errorf("no reference to merge into: %w (promote a whole run of %s first)", err, man.Experiment)
	}
	keep := func(detector string) bool { return !man.Slice.keepsDetector(detector) }

	refuse := func(err error) (string, error) {
		return "", fmt.Errorf("cannot merge %s into %s: %w; promote a whole run instead", runDir, dst, err)
	}
	if man.DynamicTimeout != "" && ref.DynamicTimeout != "" && man.DynamicTimeout != ref.DynamicTimeout {
		return refuse(fmt.Errorf("its sandbox time limit is %s, the reference's %s", man.DynamicTimeout, ref.DynamicTimeout))
	}
	if err := checkLearned(runDir, dst); err != nil {
		return refuse(err)
	}
	// Each record file the run wrote replaces its detectors' lines in the
	// reference's: records.jsonl always, ablation.jsonl when the slice ran
	// an ablation (otherwise the reference's stays as it is).
	merged := map[string][]recordLine{}
	for _, f := range []string{RecordsFile, AblationFile} {
		runLines, err := recordLines(filepath.Join(runDir, f))
		if errors.Is(err, os.ErrNotExist) && f != RecordsFile {
			continue
		}
		if err != nil {
			return "", err
		}
		refLines, err := recordLines(filepath.Join(dst, f))
		if err != nil && !(errors.Is(err, os.ErrNotExist) && f != RecordsFile) {
			return "", err
		}
		for _, l := range runLines {
			if keep(l.Detector) {
				return refuse(fmt.Errorf("its %s holds records of %s, which its slice %q does not name", f, l.Detector, man.Slice))
			}
		}
		runLines = dedupe(runLines)
		if err := checkImages(runLines, refLines, man.Slice.keepsDetector); err != nil {
			return refuse(fmt.Errorf("%s: %w", f, err))
		}
		merged[f] = mergeLines(refLines, runLines, keep)
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

	for f, ls := range merged {
		if err := writeLines(filepath.Join(dst, f), ls); err != nil {
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

// detectorsOnly reports whether s restricts by --detectors and nothing
// else: every image, some detectors (what a merge accepts).
func (s Slice) detectorsOnly() bool {
	return len(s.Detectors) > 0 && (Slice{Detectors: s.Detectors}).String() == s.String()
}

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

// checkImages checks that the run's records are of the reference's
// images, each with the reference's manifest digest, and that every
// detector of the slice (named covers) scanned at least the images the
// reference has records of for it (all of them for a detector new to the
// reference).
func checkImages(run, ref []recordLine, covers func(string) bool) error {
	refDigest := map[string]string{}
	refBy := map[string]map[string]bool{} // detector -> images
	for _, l := range ref {
		if d, ok := refDigest[l.Image]; ok && d != l.ManifestDigest {
			return fmt.Errorf("the reference has two manifest digests for %s (%s, %s)", l.Image, d, l.ManifestDigest)
		}
		refDigest[l.Image] = l.ManifestDigest
		if refBy[l.Detector] == nil {
			refBy[l.Detector] = map[string]bool{}
		}
		refBy[l.Detector][l.Image] = true
	}
	runBy := map[string]map[string]bool{}
	for _, l := range run {
		switch d, ok := refDigest[l.Image]; {
		case !ok:
			return fmt.Errorf("the reference has no %s", l.Image)
		case d != l.ManifestDigest:
			return fmt.Errorf("%s was built differently (%s in the run, %s in the reference)", l.Image, l.ManifestDigest, d)
		}
		if runBy[l.Detector] == nil {
			runBy[l.Detector] = map[string]bool{}
		}
		runBy[l.Detector][l.Image] = true
	}
	for det, imgs := range refBy {
		if !covers(det) {
			continue
		}
		for img := range imgs {
			if !runBy[det][img] {
				return fmt.Errorf("the run has no %s record of %s", det, img)
			}
		}
	}
	for det, imgs := range runBy {
		if refBy[det] != nil {
			continue
		}
		for img := range refDigest {
			if !imgs[img] {
				return fmt.Errorf("%s is new to the reference but the run did not scan %s with it", det, img)
			}
		}
	}
	return nil
}

// dedupe keeps the last line of each (image, detector): a run resumed
// across a version change may hold two.
func dedupe(ls []recordLine) []recordLine {
	last := map[[2]string]int{}
	for i, l := range ls {
		last[[2]string{l.Image, l.Detector}] = i
	}
	out := ls[:0:0]
	for i, l := range ls {
		if last[[2]string{l.Image, l.Detector}] == i {
			out = append(out, l)
		}
	}
	return out
}

// checkLearned refuses a merge when the run learned other signatures or
// known samples than the reference, or wrote a file the merge does not
// carry over (census canaries, ...): its records would then stand next to
// inputs they were not made with.
func checkLearned(runDir, dst string) error {
	entries, err := os.ReadDir(runDir)
	if err != nil {
		return err
	}
	learned := map[string]bool{"signatures.json": true, "multiengine-signatures.json": true, "known-samples.jsonl": true, NotApplicableFile: true}
	for _, e := range entries {
		name := e.Name()
		switch ext := filepath.Ext(name); {
		case !e.Type().IsRegular(), name == RecordsFile, name == AblationFile, name == ManifestFile,
			ext == ".md", ext == ".csv", ext == ".png", ext == ".svg": // merged, or derived by the report
		case learned[name]:
			a, err := os.ReadFile(filepath.Join(runDir, name))
			if err != nil {
				return err
			}
			b, err := os.ReadFile(filepath.Join(dst, name))
			if err != nil || !bytes.Equal(a, b) {
				return fmt.Errorf("the run's %s differs from the reference's: its records were made with other inputs", name)
			}
		default:
			return fmt.Errorf("the run wrote %s, which a merge does not carry over", name)
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
