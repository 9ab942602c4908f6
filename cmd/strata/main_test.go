package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sec/strata/experiments"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{name: "usage", args: nil, wantOut: "usage: strata <command>"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`, wantCode: 2},
		{name: "corpus list", args: []string{"corpus", "list"}, wantOut: "101  layer8=true layer9=false layer10=true  malicious"},
		{name: "corpus dockerfile", args: []string{"corpus", "dockerfile", "011"}, wantOut: "ADD --chmod=755 minerd /bin/minerd"},
		{name: "corpus bad case", args: []string{"corpus", "dockerfile", "12"}, wantErr: "12", wantCode: 2},
		{name: "unknown experiment", args: []string{"experiment", "exp9"}, wantErr: `unknown experiment "exp9"`, wantCode: 2},
		{name: "mutations", args: []string{"mutations"}, wantOut: "types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errb)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if c := exitCode(err); c != tt.wantCode {
					t.Errorf("exit code %d, want %d", c, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v\nstderr: %s", err, errb.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out.String())
			}
		})
	}
}

// TestReportWrites checks the report command's wiring: an experiment name
// resolves to <results>/<name>, and the files it writes there are the ones
// experiments.ReportDir derives. That the committed reports re-derive from
// the committed records is experiments' TestReportCommitted.
func TestReportWrites(t *testing.T) {
	dir := resultsWithExp1(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "experiment name", args: []string{"report", experiments.Exp1, "--quiet", "--results", dir}},
		{name: "no argument", args: []string{"report", "--results", dir}, wantErr: "name one experiment"},
		{name: "neither experiment nor run", args: []string{"report", "exp9", "--results", dir}, wantErr: "neither an experiment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errb)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("report: %v\n%s", err, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("--quiet printed %q", out.String())
			}
			rep, err := experiments.ReportDir(experiments.Exp1, filepath.Join(dir, experiments.Exp1))
			if err != nil {
				t.Fatal(err)
			}
			want := t.TempDir()
			if err := rep.WriteDir(want); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(want)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				got, err := os.ReadFile(filepath.Join(dir, experiments.Exp1, e.Name()))
				if err != nil {
					t.Errorf("report did not write %s: %v", e.Name(), err)
					continue
				}
				if w, _ := os.ReadFile(filepath.Join(want, e.Name())); !bytes.Equal(got, w) {
					t.Errorf("report wrote a %s that differs from experiments.ReportDir's", e.Name())
				}
			}
		})
	}
}

// resultsWithExp1 is a results dir holding a copy of the committed exp1
// records (and nothing derived from them).
func resultsWithExp1(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	recs, err := os.ReadFile(filepath.Join("..", "..", "results", experiments.Exp1, experiments.RecordsFile))
	if err != nil {
		t.Fatalf("no committed exp1 records: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, experiments.Exp1), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, experiments.Exp1, experiments.RecordsFile), recs, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
