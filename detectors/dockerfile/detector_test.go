package dockerfile_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/dockerfile"
)

// wants reads the "# want: RULE..." comments of a testdata Dockerfile: the
// rules that must fire at the next instruction's line.
func wants(t *testing.T, src []byte) map[int][]string {
	t.Helper()
	out := map[int][]string{}
	var pending []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if rules, ok := strings.CutPrefix(line, "# want:"); ok {
			pending = append(pending, strings.Fields(rules)...)
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") || pending == nil {
			continue
		}
		out[n], pending = pending, nil
	}
	return out
}

// TestScanTestdata scans each testdata Dockerfile with its directory as the
// context: the decision, and every finding at the line of its instruction
// (each wanted rule at its line, no finding on a line that wants none).
func TestScanTestdata(t *testing.T) {
	tests := []struct {
		name string
		want detectors.Decision
	}{
		{"add-url", detectors.Malicious},
		{"benign-node", detectors.Clean},
		{"heredoc-persist", detectors.Malicious},
		{"missing-source", detectors.Incomplete},
		{"multistage", detectors.Malicious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join("testdata", tt.name, "Dockerfile")
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			v, err := dockerfile.New().ScanPath(context.Background(), file, "")
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != tt.want {
				t.Errorf("decision %s, want %s (score %v)", v.Decision, tt.want, v.Score)
			}
			want := wants(t, src)
			got := map[int][]string{}
			for _, f := range v.Findings {
				got[f.Line] = append(got[f.Line], f.Rule)
				if _, ok := want[f.Line]; !ok {
					t.Errorf("finding %s (%s) at line %d, where the Dockerfile wants none", f.Rule, f.Evidence, f.Line)
				}
				if f.Column != 1 {
					t.Errorf("finding %s at column %d, want 1", f.Rule, f.Column)
				}
				if f.Layer != detectors.NoLayer || f.Path == "" {
					t.Errorf("finding %s: layer %d path %q, want NoLayer and a path", f.Rule, f.Layer, f.Path)
				}
			}
			for line, rules := range want {
				for _, r := range rules {
					if !slices.Contains(got[line], r) {
						t.Errorf("line %d: no %s finding (got %v)", line, r, got[line])
					}
				}
			}
		})
	}
}

// TestMultiStage: evidence of a stage the final image copies from counts;
// evidence of a stage nothing reaches is reported with weight 0.
func TestMultiStage(t *testing.T) {
	v, err := dockerfile.New().ScanPath(context.Background(), "testdata/multistage/Dockerfile", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Info["discarded_stages"]; got != "unused" {
		t.Errorf("discarded_stages %q, want unused", got)
	}
	for _, f := range v.Findings {
		switch {
		case f.Line == 10 && f.Weight != 0:
			t.Errorf("discarded stage's %s has weight %v, want 0", f.Rule, f.Weight)
		case f.Line == 5 && f.Weight == 0:
			t.Errorf("the copied-from builder's %s has weight 0", f.Rule)
		case f.Line == 16 && f.Path != "testdata/multistage/start.sh":
			t.Errorf("COPY --from finding %s names %q, want the context file", f.Rule, f.Path)
		}
	}
}

// TestNoContext: without a context, ADD/COPY sources are not scanned and the
// Dockerfile cannot be called clean.
func TestNoContext(t *testing.T) {
	src := []byte("FROM debian:bookworm\nCOPY app /usr/local/bin/app\nCMD [\"app\"]\n")
	v, err := dockerfile.New().Scan(context.Background(), dockerfile.Input{Dockerfile: src, Path: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != detectors.Incomplete || len(v.Findings) != 1 || v.Findings[0].Line != 2 {
		t.Errorf("got %s %+v, want incomplete with one not-scanned finding at line 2", v.Decision, v.Findings)
	}
}

// TestLimit: a context file over the per-file bound is a not-scanned finding.
func TestLimit(t *testing.T) {
	v, err := dockerfile.New(dockerfile.WithMaxFileBytes(10)).ScanPath(context.Background(), "testdata/multistage/Dockerfile", "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range v.Findings {
		if f.Category == detectors.CategoryNotScanned {
			n++
			if f.Line != 6 || !strings.Contains(f.Evidence, "limit") {
				t.Errorf("not-scanned finding at line %d (%s), want line 6 with the limit", f.Line, f.Evidence)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d not-scanned findings, want 1", n)
	}
}

func TestParseError(t *testing.T) {
	_, err := dockerfile.New().Scan(context.Background(), dockerfile.Input{Dockerfile: []byte("RUN echo no FROM\n"), Path: "Dockerfile"})
	if err == nil || !strings.Contains(err.Error(), "FROM") {
		t.Errorf("err = %v, want one about the missing FROM", err)
	}
}
