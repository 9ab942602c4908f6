package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/plot"
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

// TestReportCommittedExp1 re-derives the committed exp1 report from the
// committed records and checks it is what is committed: results are
// records, tables are projections of them.
func TestReportCommittedExp1(t *testing.T) {
	checkCommittedReport(t, "exp1")
}

func checkCommittedReport(t *testing.T, exp string) {
	t.Helper()
	src := filepath.Join("..", "..", "results", exp)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, exp), 0o755); err != nil {
		t.Fatal(err)
	}
	// The record files: records.jsonl, and for experiment 3 the ablation
	// records and the not-applicable list.
	inputs := map[string]bool{"records.jsonl": true, experiments.AblationFile: true, experiments.NotApplicableFile: true}
	for name := range inputs {
		recs, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, os.ErrNotExist) && name != "records.jsonl" {
			continue
		}
		if err != nil {
			t.Fatalf("no committed %s %s: %v", exp, name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, exp, name), recs, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"report", exp, "--quiet", "--results", dir}, &out, &errb); err != nil {
		t.Fatalf("report: %v\n%s", err, errb.String())
	}
	entries, err := os.ReadDir(filepath.Join(dir, exp))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if inputs[e.Name()] {
			continue
		}
		got, _ := os.ReadFile(filepath.Join(dir, exp, e.Name()))
		want, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Errorf("%s is derived from the records but not committed: run `make figures`", e.Name())
			continue
		}
		if strings.HasSuffix(e.Name(), ".png") {
			if diff, err := plot.DiffPNG(got, want); err != nil || diff != "" {
				t.Errorf("committed %s differs from the one derived from records.jsonl (%s %v): run `make figures`", e.Name(), diff, err)
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("committed %s differs from the one derived from records.jsonl: run `make figures`", e.Name())
		}
	}
}

// TestReportCommittedExp2 does for experiment 2 what TestReportCommittedExp1
// does: the committed tables and figures must be exactly what the committed
// records give (PNG compared pixel by pixel).
func TestReportCommittedExp2(t *testing.T) {
	checkCommittedReport(t, "exp2")
}

// TestReportCommittedBenign checks the benign experiment's committed tables.
func TestReportCommittedBenign(t *testing.T) {
	checkCommittedReport(t, "benign")
}

// TestReportCommittedExp3 checks experiment 3's committed tables and
// figures, the ablation included, against its committed record files.
func TestReportCommittedExp3(t *testing.T) {
	checkCommittedReport(t, "exp3")
}
