package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
