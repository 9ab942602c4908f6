package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/experiments"
)

// writeRun writes a run directory holding the committed exp1 records,
// each passed through change, and a manifest.
func writeRun(t *testing.T, change func(*experiments.Record)) string {
	t.Helper()
	recs, err := experiments.ReadRecords(filepath.Join("..", "..", "results", "exp1", experiments.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "20260101-000000-exp1-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, r := range recs {
		change(&r)
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, experiments.RecordsFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	man, _ := json.Marshal(experiments.Manifest{Experiment: "exp1", Run: filepath.Base(dir)})
	if err := os.WriteFile(filepath.Join(dir, experiments.ManifestFile), man, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCompare compares runs made of the committed exp1 records with the
// committed reference: unchanged it reproduces; a detector whose decisions
// changed makes compare exit 1 and list the changed decisions; a base built
// from other packages changes digests but not the verdict.
func TestCompare(t *testing.T) {
	recs, err := experiments.ReadRecords(filepath.Join("..", "..", "results", "exp1", experiments.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	n := len(recs)
	tests := []struct {
		name     string
		change   func(*experiments.Record)
		wantCode int // 0: reproduced
		wantOut  []string
	}{
		{
			name:    "same records",
			change:  func(*experiments.Record) {},
			wantOut: []string{fmt.Sprintf("exp1: %d/%d records agree; layer digests identical; REPRODUCED", n, n)},
		},
		{
			name: "base layers rebuilt",
			change: func(r *experiments.Record) {
				if len(r.Layers) > 1 {
					r.Layers[0], r.Layers[1] = "sha256:0000", "sha256:1111"
				}
			},
			wantOut: []string{fmt.Sprintf("%d/%d records agree; digests differ in layers 0-1 only", n, n), "REPRODUCED"},
		},
		{
			name: "changed detector",
			change: func(r *experiments.Record) {
				if r.Detector == "hierarchical" && r.Case == "111" {
					r.Decision, r.Score, r.BlamedLayers = detectors.Clean, 1, nil
				}
			},
			wantCode: 1,
			wantOut: []string{
				fmt.Sprintf("exp1: %d/%d records agree", n-1, n), "NOT REPRODUCED",
				"records.jsonl exp1/case-111 hierarchical: decision malicious -> clean",
				"records.jsonl exp1/case-111 hierarchical: blamed layers [8 9 10] -> []",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRun(t, tt.change)
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"compare", dir, "--results", filepath.Join("..", "..", "results")}, &out, &errb)
			code := 0
			if err != nil {
				code = exitCode(err)
			}
			if code != tt.wantCode {
				t.Fatalf("exit code %d (err %v), want %d\n%s", code, err, tt.wantCode, out.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestPromoteRefusesSlice: a slice never becomes the reference.
func TestPromoteRefusesSlice(t *testing.T) {
	dir := t.TempDir()
	man, _ := json.Marshal(experiments.Manifest{Experiment: "exp3", Slice: experiments.Slice{Types: []string{"pad-binary"}}})
	if err := os.WriteFile(filepath.Join(dir, experiments.ManifestFile), man, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"promote", dir, "--results", t.TempDir()}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "is a slice") {
		t.Fatalf("promote = %v, want the slice refused", err)
	}
}

// copyResultSet copies the committed results/<exp> into a temporary
// results directory and returns that directory.
func copyResultSet(t *testing.T, exp string) string {
	t.Helper()
	src := filepath.Join("..", "..", "results", exp)
	dst := t.TempDir()
	if err := os.CopyFS(filepath.Join(dst, exp), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestPromoteMerge: a --detectors slice replaces only its detectors'
// records (every other line byte for byte), updates run.json's versions
// and lists itself under "merged"; a slice of other images, one holding an
// unnamed detector's records, one restricted by more than --detectors, and
// an unfinished one are refused and leave the reference as it was.
func TestPromoteMerge(t *testing.T) {
	refRaw, err := os.ReadFile(filepath.Join("..", "..", "results", "exp1", experiments.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	refLines := strings.Split(strings.TrimSpace(string(refRaw)), "\n")
	var others []string // the reference's lines of detectors the slice leaves alone
	for _, l := range refLines {
		if !strings.Contains(l, `"detector":"hierarchical"`) && !strings.Contains(l, `"detector":"hierarchical-`) {
			others = append(others, l)
		}
	}
	// slice writes a run of the hierarchical slice (which keeps its variant
	// hierarchical-sample-blind): the committed exp1 records of the
	// detectors in recordsOf, hierarchical at version 9.9.9.
	slice := func(change func(*experiments.Record), man func(*experiments.Manifest), recordsOf ...string) string {
		dir := writeRun(t, change)
		recs, err := experiments.ReadRecords(filepath.Join(dir, experiments.RecordsFile))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, r := range recs {
			if !slices.Contains(recordsOf, r.Detector) {
				continue
			}
			if r.Detector == "hierarchical" {
				r.DetectorVersion = "9.9.9"
			}
			line, _ := json.Marshal(r)
			b.Write(append(line, '\n'))
		}
		if err := os.WriteFile(filepath.Join(dir, experiments.RecordsFile), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		m := experiments.Manifest{
			Experiment: "exp1", Run: filepath.Base(dir), Strata: "abc123",
			Slice:     experiments.Slice{Detectors: []string{"hierarchical"}},
			Started:   time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC),
			Finished:  time.Date(2026, 12, 4, 0, 1, 0, 0, time.UTC),
			Detectors: []experiments.DetectorInfo{{Name: "hierarchical", Version: "9.9.9"}},
		}
		man(&m)
		mb, _ := json.Marshal(m)
		if err := os.WriteFile(filepath.Join(dir, experiments.ManifestFile), mb, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	same := func(*experiments.Record) {}
	asIs := func(*experiments.Manifest) {}

	t.Run("merged", func(t *testing.T) {
		results := copyResultSet(t, "exp1")
		if err := os.Remove(filepath.Join(results, "exp1", "report.md")); err != nil {
			t.Fatal(err)
		}
		dir := slice(same, asIs, "hierarchical", "hierarchical-sample-blind")
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"promote", "--merge", dir, "--results", results}, &out, &errb); err != nil {
			t.Fatalf("promote --merge: %v\n%s", err, errb.String())
		}
		got, err := os.ReadFile(filepath.Join(results, "exp1", experiments.RecordsFile))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(got)), "\n")
		if len(lines) != len(refLines) {
			t.Fatalf("%d records after the merge, want %d as before", len(lines), len(refLines))
		}
		if strings.Join(lines[:len(others)], "\n") != strings.Join(others, "\n") {
			t.Errorf("the other detectors' records changed")
		}
		for _, l := range lines[len(others):] {
			if !strings.Contains(l, `"detector":"hierarchical","detector_version":"9.9.9"`) && !strings.Contains(l, `"detector":"hierarchical-sample-blind"`) {
				t.Fatalf("merged line is not the slice's: %.200s", l)
			}
		}
		man, err := experiments.ReadManifest(filepath.Join(results, "exp1"))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(man.Detectors, func(d experiments.DetectorInfo) bool { return d.Name == "hierarchical" })
		if i < 0 || man.Detectors[i].Version != "9.9.9" || len(man.Merged) != 1 || man.Merged[0].Strata != "abc123" {
			t.Errorf("run.json detectors %+v merged %+v", man.Detectors, man.Merged)
		}
		if _, err := os.Stat(filepath.Join(results, "exp1", "report.md")); err != nil {
			t.Errorf("the merge wrote no report: %v", err)
		}
	})

	refusals := []struct {
		name      string
		change    func(*experiments.Record)
		man       func(*experiments.Manifest)
		recordsOf []string
		want      string
		files     map[string]string // written into the run
	}{
		{"other build", func(r *experiments.Record) {
			if r.Image == "exp1/case-101" {
				r.ManifestDigest = "sha256:0000"
			}
		}, asIs, []string{"hierarchical"}, "built differently", nil},
		{"unnamed detector", same, asIs, []string{"hierarchical", "digest-image"}, "does not name", nil},
		{"more than detectors", same, func(m *experiments.Manifest) { m.Slice.Cases = []string{"111"} }, []string{"hierarchical"}, "not a detector slice", nil},
		{"unfinished", same, func(m *experiments.Manifest) { m.Finished = time.Time{} }, []string{"hierarchical"}, "did not finish", nil},
		{"image missing", func(r *experiments.Record) {
			if r.Image == "exp1/case-101" {
				r.Detector = "digest-image" // dropped by recordsOf: the run has no hierarchical record of it
			}
		}, asIs, []string{"hierarchical", "hierarchical-sample-blind"}, "record of exp1/case-101", nil},
		{"other signatures", same, asIs, []string{"hierarchical"}, "signatures.json differs", map[string]string{"signatures.json": "{}"}},
		{"a file the merge drops", same, asIs, []string{"hierarchical"}, "canaries.jsonl", map[string]string{"canaries.jsonl": ""}},
		{"other time limit", same, func(m *experiments.Manifest) { m.DynamicTimeout = "60s" }, []string{"hierarchical"}, "time limit", map[string]string{}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			results := copyResultSet(t, "exp1")
			before, _ := os.ReadFile(filepath.Join(results, "exp1", experiments.RecordsFile))
			dir := slice(tt.change, tt.man, tt.recordsOf...)
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"promote", "--merge", dir, "--results", results}, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("promote --merge = %v, want an error with %q", err, tt.want)
			}
			after, _ := os.ReadFile(filepath.Join(results, "exp1", experiments.RecordsFile))
			if !bytes.Equal(before, after) {
				t.Errorf("a refused merge changed the reference's records")
			}
		})
	}
}
