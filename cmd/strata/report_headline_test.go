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

// TestReportHeadline checks `strata report headline`: it reads the results
// dir's records and writes headline.md and headline.csv into it; what they
// hold is experiments' TestHeadline*.
func TestReportHeadline(t *testing.T) {
	dir := resultsWithExp1(t)
	tests := []struct {
		name      string
		args      []string
		wantOut   string
		wantFiles bool
		wantErr   string
	}{
		{name: "prints and writes", args: []string{"report", "headline", "--results", dir}, wantOut: "Detector hierarchical", wantFiles: true},
		{name: "quiet", args: []string{"report", "--quiet", "headline", "--results", dir}, wantFiles: true},
		{name: "empty results dir", args: []string{"report", "headline", "--results", t.TempDir()}, wantErr: "run the experiments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []string{experiments.HeadlineMarkdown, experiments.HeadlineCSV} {
				os.Remove(filepath.Join(dir, f))
			}
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errb)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("report headline: %v\n%s", err, errb.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) || (tt.wantOut == "" && out.Len() != 0) {
				t.Errorf("stdout %q, want it to contain %q", out.String(), tt.wantOut)
			}
			md, err := os.ReadFile(filepath.Join(dir, experiments.HeadlineMarkdown))
			if err != nil {
				t.Fatalf("no %s: %v", experiments.HeadlineMarkdown, err)
			}
			if !strings.Contains(string(md), "exp2: no records") {
				t.Errorf("%s does not warn about the missing exp2:\n%s", experiments.HeadlineMarkdown, md)
			}
			if _, err := os.Stat(filepath.Join(dir, experiments.HeadlineCSV)); err != nil {
				t.Errorf("no %s: %v", experiments.HeadlineCSV, err)
			}
		})
	}
}
