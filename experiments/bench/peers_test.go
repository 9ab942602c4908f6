package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/peers.golden.md from the current output")

// childEnv makes the test binary a child for the peers bench: it
// allocates and touches that many MB and exits 0 (a stand-in strata too).
const childEnv = "STRATA_BENCH_TEST_CHILD_MB"

func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(childEnv); ok {
		mb, _ := strconv.Atoi(v)
		b := make([]byte, mb<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		if len(b) > 0 && b[len(b)/2] != 1 {
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func selfExe(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunChildRSS(t *testing.T) {
	run := func(mb int) childRun {
		t.Helper()
		env := append(os.Environ(), fmt.Sprintf("%s=%d", childEnv, mb))
		r, err := runChild(context.Background(), env, selfExe(t))
		if err != nil {
			t.Fatal(err)
		}
		if r.Exit != 0 || r.WallNS <= 0 || r.MaxRSS <= 0 {
			t.Fatalf("exit %d, wall %d ns, peak RSS %d: %s", r.Exit, r.WallNS, r.MaxRSS, r.Stderr)
		}
		return r
	}
	// The helper's own pages (runtime, test binary) are measured first;
	// an allocation of N MiB adds N MiB to the peak, give or take the
	// runtime's bookkeeping.
	idle := run(0).MaxRSS
	const slack = 24 << 20
	for _, mb := range []int{64, 160} {
		t.Run(fmt.Sprintf("%dMiB", mb), func(t *testing.T) {
			want := int64(mb) << 20
			if got := run(mb).MaxRSS - idle; got < want-slack || got > want+slack {
				t.Errorf("peak RSS grew by %d bytes for a %d-byte allocation (idle %d)", got, want, idle)
			}
		})
	}
}

func TestRunChildExit(t *testing.T) {
	r, err := runChild(context.Background(), nil, "sh", "-c", "echo first >&2; echo last >&2; exit 2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Exit != 2 || lastLine(r.Stderr) != "last" {
		t.Errorf("exit %d, stderr %q", r.Exit, r.Stderr)
	}
	if _, err := runChild(context.Background(), nil, filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("a missing program ran")
	}
}

// fixtureReport is a fixed report: every row kind (strata, extraction,
// measured peer, failed peer, skipped peer) on two images.
func fixtureReport() PeersReport {
	s := func(sec float64) int64 { return int64(sec * float64(time.Second)) }
	img := func(target string, cold, mal float64) PeerImage {
		return PeerImage{Ref: "store:" + target, Target: "/store:" + target, Files: 1200, Bytes: 210e6, Results: []PeerResult{
			{Tool: toolStrataCold, Version: "hierarchical 0.6.0", MedianNS: s(cold), PeakRSS: 112e6},
			{Tool: toolStrataWarm, Version: "hierarchical 0.6.0", MedianNS: s(0.06), PeakRSS: 76e6},
			{Tool: toolExtract, MedianNS: s(1.5), Note: "in-process"},
			{Tool: toolClamscan, Version: "ClamAV 1.4.6", Skipped: "no ClamAV database in /var/lib/clamav: run freshclam"},
			{Tool: toolClamscanMin, Version: "ClamAV 1.4.6", MedianNS: s(6), WithExtraction: true, PeakRSS: 79e6, Note: "engine walk and unpacking only"},
			{Tool: toolYara + " malcontent", Version: "4.2.3", MedianNS: s(2.5), WithExtraction: true, PeakRSS: 250e6, Note: "1368 rule files"},
			{Tool: toolMalcontent, Version: "malcontent version v1.7.1", MedianNS: s(mal), WithExtraction: true, PeakRSS: 147e6, Exits: []int{2}, Note: "exit 2: scan: internal fatal error"},
			{Tool: toolTrivy, Skipped: "trivy not installed: make bench-peers"},
		}}
	}
	return PeersReport{Schema: PeersSchema, Count: 3, Images: []PeerImage{img("exp1/case-111", 2, 40), img("benign/dev-busy", 4, 30)}}
}

func TestPeersMarkdownGolden(t *testing.T) {
	got, err := peersMarkdown(fixtureReport())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "peers.golden.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./experiments/bench -run TestPeersMarkdownGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("peers.md differs from %s (rerun with -update if intended):\n%s", golden, got)
	}
}

func TestPeersVerdicts(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*PeerImage)
		wants []string
	}{
		{name: "fixture", edit: func(*PeerImage) {},
			wants: []string{"PASS exp1/case-111: strata peak RSS", "PASS exp1/case-111: yara malcontent with extraction takes 2.0x", "PASS exp1/case-111: malcontent with extraction takes 20.8x"}},
		{name: "slow strata", edit: func(pi *PeerImage) { pi.Results[0].MedianNS = int64(10 * time.Second) },
			wants: []string{"FAIL exp1/case-111: yara malcontent with extraction takes 0.4x", "FAIL exp1/case-111: malcontent with extraction takes 4.2x"}},
		{name: "fat strata", edit: func(pi *PeerImage) { pi.Results[1].PeakRSS = 250e6 },
			wants: []string{"FAIL exp1/case-111: strata peak RSS 112 MB cold, 250 MB warm"}},
		{name: "no malcontent", edit: func(pi *PeerImage) { pi.Results[6] = PeerResult{Tool: toolMalcontent, Skipped: "not installed"} },
			wants: []string{"SKIP exp1/case-111: malcontent not run (target >= 10x strata cold): not installed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := fixtureReport()
			rep.Images = rep.Images[:1]
			tt.edit(&rep.Images[0])
			got := strings.Join(peersVerdicts(rep), "\n")
			for _, w := range tt.wants {
				if !strings.Contains(got, w) {
					t.Errorf("verdicts lack %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestRunPeersSkips runs the peers bench with no peer on PATH: every peer
// is listed as skipped with how to install it, strata (here the test
// binary standing in) is still timed.
func TestRunPeersSkips(t *testing.T) {
	dir := t.TempDir()
	oci := filepath.Join(dir, "oci")
	writeLayout(t, oci)
	t.Setenv("PATH", filepath.Join(dir, "empty"))
	t.Setenv(childEnv, "1")
	var out bytes.Buffer
	rep, err := RunPeers(context.Background(), PeersConfig{Refs: []string{oci + ":miner"}, Count: 1, Strata: selfExe(t),
		PeersDir: filepath.Join(dir, "peers"), YaraRules: []RuleSet{{Name: "x", Path: dir}}, Out: filepath.Join(dir, "out"), Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{toolClamscan: "make setup", toolYara: "make setup", toolMalcontent: "bin/peers/mal", toolTrivy: "make bench-peers"}
	if len(rep.Images) != 1 {
		t.Fatalf("%d images", len(rep.Images))
	}
	pi := rep.Images[0]
	for tool, hint := range want {
		r, ok := pi.result(tool)
		if !ok || !strings.Contains(r.Skipped, hint) {
			t.Errorf("%s: skipped %q, want a reason naming %q", tool, r.Skipped, hint)
		}
	}
	cold, _ := pi.result(toolStrataCold)
	if len(cold.RunsNS) != 1 || cold.PeakRSS <= 0 {
		t.Errorf("strata cold not timed: %+v", cold)
	}
	if pi.Files == 0 {
		t.Error("nothing extracted")
	}
	for _, f := range []string{"peers.md", "peers.json", "machine.md"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(out.String(), "SKIP miner: malcontent not run") {
		t.Errorf("output lacks the malcontent SKIP line:\n%s", out.String())
	}
}

func TestRunPeersConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     PeersConfig
		wantErr string
	}{
		{name: "nothing", cfg: PeersConfig{Count: 1, Strata: "strata"}, wantErr: "nothing to bench"},
		{name: "count", cfg: PeersConfig{Refs: []string{"x"}, Strata: "strata"}, wantErr: "at least 1"},
		{name: "strata", cfg: PeersConfig{Refs: []string{"x"}, Count: 1}, wantErr: "no strata binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := RunPeers(context.Background(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestRunPeersIntegration builds strata and runs the peers bench on one
// small image with the peers installed here (clamscan and yara come with
// make setup), yara with a rule set of which one file does not compile.
func TestRunPeersIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds strata and runs clamscan and yara: skipped under -short")
	}
	for _, c := range []string{"clamscan", "yara", "yarac"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("%s not installed: run make setup", c)
		}
	}
	dir := t.TempDir()
	strata := filepath.Join(dir, "strata")
	if out, err := exec.Command("go", "build", "-o", strata, "github.com/strata-sec/strata/cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("build strata: %v\n%s", err, out)
	}
	oci := filepath.Join(dir, "oci")
	writeLayout(t, oci)
	rules := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"miner.yar":  "rule stratum_url { strings: $a = \"stratum+tcp://\" condition: $a }\n",
		"broken.yar": "rule broken { condition: no_such_identifier }\n",
	} {
		if err := os.WriteFile(filepath.Join(rules, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	rep, err := RunPeers(context.Background(), PeersConfig{Refs: []string{oci + ":miner"}, Count: 1, Strata: strata,
		PeersDir: filepath.Join(dir, "peers"), YaraRules: []RuleSet{{Name: "tiny", Path: rules}}, Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	pi := rep.Images[0]
	for _, tool := range []string{toolStrataCold, toolStrataWarm, toolYara + " tiny"} {
		r, ok := pi.result(tool)
		if !ok || r.Skipped != "" || len(r.RunsNS) != 1 || (tool != toolExtract && r.PeakRSS <= 0) {
			t.Errorf("%s not measured: %+v", tool, r)
		}
	}
	if r, _ := pi.result(toolYara + " tiny"); r.Note != "1 rule files, 1 left out (YARA "+r.Version+" cannot compile them)" || len(r.Exits) != 1 || r.Exits[0] != 0 {
		t.Errorf("yara: note %q, exits %v", r.Note, r.Exits)
	}
	clam, _ := pi.result(toolClamscan)
	clamMin, _ := pi.result(toolClamscanMin)
	if clam.Skipped != "" && (clamMin.Skipped != "" || len(clamMin.RunsNS) != 1) {
		t.Errorf("no clamscan row measured: %+v / %+v", clam, clamMin)
	}
	if !strings.Contains(out.String(), "strata peak RSS") {
		t.Errorf("output lacks the RSS verdict:\n%s", out.String())
	}
}

func TestYaracErrorFile(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{name: "syntax", line: "/r/a.yar(3): error: syntax error, unexpected identifier", want: "/r/a.yar"},
		{name: "rule", line: `error: rule "broken" in /r/b (1).yar(1): undefined identifier "x"`, want: "/r/b (1).yar"},
		{name: "other", line: "error: could not open file", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if m := yaracError.FindStringSubmatch(tt.line); m != nil {
				got = m[1]
			}
			if got != tt.want {
				t.Errorf("file = %q, want %q", got, tt.want)
			}
		})
	}
}
