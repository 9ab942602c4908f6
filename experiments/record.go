// This file owns the record format: the types of the record files of a run
// (records.jsonl, ablation.jsonl, not-applicable.jsonl), their writer and
// their reader. Nothing else in the package opens them.

package experiments

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-sec/strata/detectors"
)

// RecordSchema is bumped whenever a field changes meaning.
const RecordSchema = 1

// Record is one line of results/<exp>/records.jsonl: one (image, detector)
// pair. Records are raw facts; every table and figure is derived from them by
// `strata report`.
type Record struct {
	Schema     int    `json:"schema"`
	Experiment string `json:"experiment"`
	// Image identity.
	Image          string   `json:"image"`           // store name, e.g. "exp1/case-101"
	ManifestDigest string   `json:"manifest_digest"` // sha256:...
	ConfigDigest   string   `json:"config_digest"`
	Layers         []string `json:"layers"` // diffIDs, bottom first
	// Ground truth.
	Case            string `json:"case"` // layer-presence bits for layers 8,9,10, e.g. "101"
	Mutation        string `json:"mutation,omitempty"`
	MutationVersion string `json:"mutation_version,omitempty"`
	Seed            int64  `json:"seed"`
	Label           string `json:"label"`            // "malicious", "benign" or "grey"
	MaliciousLayers []int  `json:"malicious_layers"` // layer indices, bottom = 0
	Family          string `json:"family,omitempty"` // wild corpus: the subject's family
	Split           string `json:"split,omitempty"`  // wild corpus: "dev" or "test" (corpus/wild/split.json)
	// Detector outcome.
	Detector        string              `json:"detector"`
	DetectorVersion string              `json:"detector_version"`
	Decision        detectors.Decision  `json:"decision"`
	Score           float64             `json:"score"`
	Threshold       float64             `json:"threshold"`
	BlamedLayers    []int               `json:"blamed_layers"`
	Findings        []detectors.Finding `json:"findings,omitempty"`
	Info            map[string]string   `json:"info,omitempty"`
	ScanMillis      int64               `json:"scan_ms"`
	Error           string              `json:"error,omitempty"`
}

// Malicious reports the ground-truth label.
func (r Record) Malicious() bool { return r.Label == LabelMalicious }

// Flagged reports whether the detector flagged the image.
func (r Record) Flagged() bool { return r.Decision == detectors.Malicious }

const (
	LabelMalicious = "malicious"
	LabelBenign    = "benign"
	// LabelGrey marks pool software (corpus/wild): neither a positive nor
	// a negative; reported apart.
	LabelGrey = "grey"
)

// The record files of a run or of a committed result set.
const (
	RecordsFile       = "records.jsonl"
	AblationFile      = "ablation.jsonl"
	NotApplicableFile = "not-applicable.jsonl"
)

// NotApplicable is one (subject, type, seed) the mutation type had nothing
// to change in, as a line of not-applicable.jsonl.
type NotApplicable struct {
	Experiment      string `json:"experiment"`
	Subject         string `json:"subject"` // case bits or benign image name
	Label           string `json:"label"`
	Mutation        string `json:"mutation"`
	MutationVersion string `json:"mutation_version"`
	Seed            int64  `json:"seed"`
	Reason          string `json:"reason"`
}

// RecordKey identifies a record for resuming: the same image scanned by the
// same detector version is not scanned again.
func RecordKey(r Record) string {
	return r.Image + "|" + r.ManifestDigest + "|" + r.Detector + "|" + r.DetectorVersion
}

// Records is the append-only record file of one experiment.
type Records struct {
	path string
	done map[string]bool
}

// OpenRecords opens results/<exp>/records.jsonl for appending, remembering
// what it already holds; fresh truncates it.
func OpenRecords(path string, fresh bool) (*Records, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	r := &Records{path: path, done: map[string]bool{}}
	if fresh {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return r, nil
	}
	old, err := ReadRecords(path)
	var partial *PartialLineError
	switch {
	case errors.As(err, &partial):
		// An interrupted run left half a line: cut it so the next record
		// starts on a line of its own.
		fi, serr := os.Stat(path)
		if serr != nil {
			return nil, serr
		}
		if terr := os.Truncate(path, fi.Size()-int64(partial.Bytes)); terr != nil {
			return nil, fmt.Errorf("drop partial last record: %w", terr)
		}
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	for _, rec := range old {
		r.done[RecordKey(rec)] = true
	}
	return r, nil
}

// Has reports whether an equivalent record exists.
func (r *Records) Has(rec Record) bool { return r.done[RecordKey(rec)] }

// Append writes one record as a JSON line and syncs it, so an interrupted
// run loses at most the record being written.
func (r *Records) Append(rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.Write(b)
	w.WriteByte('\n')
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	r.done[RecordKey(rec)] = true
	return f.Close()
}

// PartialLineError is returned by ReadRecords, together with every complete
// record, when the file's last line is cut short: no newline and not valid
// JSON, which is what a run killed in the middle of an append leaves behind.
// Callers that accept this should report it as a warning (Exp1ReportFile
// does); it is an error value so that no caller can ignore it by accident.
type PartialLineError struct {
	Path string
	Line int // 1-based
	// Bytes is the length of the partial line, which is the end of the file:
	// truncating the file by Bytes removes it (the runner does so on resume).
	Bytes int
	Err   error // the JSON decoding error
}

func (e *PartialLineError) Error() string {
	return fmt.Sprintf("%s:%d: ignored partial last line (%d bytes, no trailing newline; interrupted run?): %v",
		e.Path, e.Line, e.Bytes, e.Err)
}

func (e *PartialLineError) Unwrap() error { return e.Err }

// ReadRecords reads a records.jsonl file. Blank lines are skipped. A line
// that does not decode is an error, except a partial last line: then the
// records before it are returned with a *PartialLineError.
func ReadRecords(path string) ([]Record, error) {
	var recs []Record
	var partial error
	err := eachLine(path, func(lineNo int, line []byte, last bool) error {
		var r Record
		if err := json.Unmarshal(bytes.TrimSpace(line), &r); err != nil {
			if last {
				partial = &PartialLineError{Path: path, Line: lineNo, Bytes: len(line), Err: err}
				return nil
			}
			return fmt.Errorf("decode record %s:%d: %w", path, lineNo, err)
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	return recs, partial
}

// eachLine calls f with every non-blank line of path (as read, newline
// included), its 1-based number, and whether it is the file's last.
// bufio.Reader rather than Scanner: a record with many findings can exceed
// Scanner's line limit.
func eachLine(path string, f func(lineNo int, line []byte, last bool) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	for lineNo := 1; ; lineNo++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("%s:%d: %w", path, lineNo, rerr)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if err := f(lineNo, line, rerr == io.EOF); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
	}
}

// readRecordsWarn is ReadRecords with a partial last line turned into a
// warning, for report builders.
func readRecordsWarn(path string) ([]Record, []string, error) {
	recs, err := ReadRecords(path)
	var partial *PartialLineError
	if errors.As(err, &partial) {
		return recs, []string{partial.Error()}, nil
	}
	return recs, nil, err
}

// writeNotApplicable replaces path with one JSON line per entry, in job
// order (deterministic for a configuration).
func writeNotApplicable(path string, nas []NotApplicable) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var sb strings.Builder
	for _, na := range nas {
		b, err := json.Marshal(na)
		if err != nil {
			return err
		}
		sb.Write(b)
		sb.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

// ReadNotApplicable reads not-applicable.jsonl; a missing file is empty.
func ReadNotApplicable(path string) ([]NotApplicable, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []NotApplicable
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var na NotApplicable
		if err := json.Unmarshal([]byte(line), &na); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, na)
	}
	return out, nil
}
