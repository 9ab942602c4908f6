package mutations

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/drupal"
	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testServerURL is the harness's default loopback address, so goldens look
// like what experiment 2 builds.
const testServerURL = "http://127.0.0.1:18473"

var goldenCases = []string{"111", "000"}

func caseDockerfile(t *testing.T, bits string) []byte {
	t.Helper()
	c, err := drupal.ParseCase(bits)
	if err != nil {
		t.Fatal(err)
	}
	df, err := drupal.Dockerfile(c, drupal.Options{ServerURL: testServerURL})
	if err != nil {
		t.Fatal(err)
	}
	return df
}

func dockerfileMutations() []DockerfileMutation {
	var out []DockerfileMutation
	for _, m := range All() {
		if dm, ok := m.(DockerfileMutation); ok {
			out = append(out, dm)
		}
	}
	return out
}

// TestDockerfileGolden pins every Dockerfile mutation's output on the
// corpus cases 111 (three malicious layers) and 000 (empty final stage).
// go test ./mutations -update rewrites the files.
func TestDockerfileGolden(t *testing.T) {
	for _, m := range dockerfileMutations() {
		for _, bits := range goldenCases {
			src := caseDockerfile(t, bits)
			for _, seed := range []int64{1, 2} {
				name := filepath.Join("testdata", m.Name(), "case-"+bits+"-seed-"+string(rune('0'+seed))+".Dockerfile.golden")
				t.Run(m.Name()+"/"+bits+"/"+string(rune('0'+seed)), func(t *testing.T) {
					got, err := ApplyDockerfile(m, src, seed, Env{ServerURL: testServerURL, BaseWorkdir: "/opt/drupal"})
					if err != nil {
						t.Fatal(err)
					}
					checkMutated(t, src, got)
					if *update {
						if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(name, got, 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(name)
					if err != nil {
						t.Fatalf("%v (run go test ./mutations -update)", err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("output differs from %s (run go test ./mutations -update if intended)\n--- got ---\n%s", name, got)
					}
				})
			}
		}
	}
}

// checkMutated checks what every Dockerfile mutation promises: the result
// parses, the original text survives line for line (mutations only
// insert), every stage before the final one is byte-identical, and the
// final image's instructions are the original ones, with the same comments
// and markers, plus inserted instructions that carry no marker.
func checkMutated(t *testing.T, orig, got []byte) {
	t.Helper()
	od, err := parseDockerfile(orig)
	if err != nil {
		t.Fatal(err)
	}
	gd, err := parseDockerfile(got)
	if err != nil {
		t.Fatalf("mutated Dockerfile does not parse: %v\n%s", err, got)
	}
	if !isSubsequence(od.Lines, gd.Lines) {
		t.Error("the original lines are not kept in order: the mutation edited or removed text")
	}
	prefix := strings.Join(od.Lines[:od.beforeFinalStage()], "")
	if !bytes.HasPrefix(got, []byte(prefix)) {
		t.Error("the stages before the final stage changed")
	}
	var want, have []*parser.Node
	for _, st := range od.Chain() {
		want = append(want, st.Instructions...)
	}
	for _, st := range gd.Chain() {
		have = append(have, st.Instructions...)
	}
	i := 0
	for _, n := range have {
		if i < len(want) && n.Original == want[i].Original {
			if !slices.Equal(n.PrevComment, want[i].PrevComment) {
				t.Errorf("comments of %q changed: %q, want %q", n.Original, n.PrevComment, want[i].PrevComment)
			}
			i++
			continue
		}
		if len(n.PrevComment) > 0 {
			t.Errorf("inserted %q carries comments %q", n.Original, n.PrevComment)
		}
	}
	if i != len(want) {
		t.Errorf("only %d of the %d original instructions of the final image are still in order", i, len(want))
	}
	if om, gm := markers(want), markers(have); !slices.Equal(om, gm) {
		t.Errorf("markers %q, want %q", gm, om)
	}
}

// markers lists "tag: instruction" of every marked instruction, read the
// way corpus.GroundTruth reads them.
func markers(nodes []*parser.Node) []string {
	var out []string
	for _, n := range nodes {
		for _, c := range n.PrevComment {
			if tag, ok := strings.CutPrefix(c, corpus.MarkerPrefix); ok {
				out = append(out, tag+": "+n.Original)
			}
		}
	}
	return out
}

// isSubsequence compares lines without their terminator: a last line
// without one gets a newline when something is appended after it.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && strings.TrimSuffix(s, "\n") == strings.TrimSuffix(sub[i], "\n") {
			i++
		}
	}
	return i == len(sub)
}

func TestDockerfileDeterministicAndSeeded(t *testing.T) {
	for _, m := range dockerfileMutations() {
		for _, bits := range goldenCases {
			t.Run(m.Name()+"/"+bits, func(t *testing.T) {
				src := caseDockerfile(t, bits)
				outs := map[string]bool{}
				for seed := int64(1); seed <= 20; seed++ {
					a, err := ApplyDockerfile(m, src, seed, Env{ServerURL: testServerURL})
					if err != nil {
						t.Fatal(err)
					}
					b, err := ApplyDockerfile(m, src, seed, Env{ServerURL: testServerURL})
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(a, b) {
						t.Fatalf("seed %d: two runs differ", seed)
					}
					outs[string(a)] = true
				}
				switch {
				case m.Name() == "conditional-layer":
					// A coin: the unmutated file and one variant per point.
					if !outs[string(src)] || len(outs) < 2 {
						t.Errorf("20 seeds gave %d outputs (unchanged among them: %v), want both sides of the coin", len(outs), outs[string(src)])
					}
				case len(outs) < 20:
					t.Errorf("20 seeds gave only %d distinct outputs", len(outs))
				}
			})
		}
	}
}

// TestInsertionPoints checks where insertions go on a file with comment
// blocks, a heredoc, a continuation line and no final newline.
func TestInsertionPoints(t *testing.T) {
	src := "# syntax comment\nFROM busybox:stable AS base\nWORKDIR /app\n\n" +
		"FROM base\n# why\n# strata:malicious=L8\nRUN <<EOF\necho hi\nEOF\n\n# strata:malicious=L9\nRUN a \\\n  b\nENV X=1"
	d, err := parseDockerfile([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, p := range d.points() {
		got = append(got, p.after)
	}
	// after FROM base (line 5), after the heredoc (line 10), after the
	// continued RUN (line 14), after ENV (line 15).
	if want := []int{5, 10, 14, 15}; !slices.Equal(got, want) {
		t.Fatalf("points after lines %v, want %v", got, want)
	}
	if got := d.beforeFinalStage(); got != 3 {
		t.Errorf("new stage goes after line %d, want 3", got)
	}
	out := d.Splice(dfile.Insert(15, "RUN x"), dfile.Insert(5, "RUN y"))
	want := "# syntax comment\nFROM busybox:stable AS base\nWORKDIR /app\n\n" +
		"FROM base\n\nRUN y\n# why\n# strata:malicious=L8\nRUN <<EOF\necho hi\nEOF\n\n# strata:malicious=L9\nRUN a \\\n  b\nENV X=1\n\nRUN x\n"
	if string(out) != want {
		t.Errorf("splice =\n%s\nwant\n%s", out, want)
	}
	checkMutated(t, []byte(src), out)
}

func TestWorkdirAt(t *testing.T) {
	tests := []struct {
		name string
		src  string
		base string
		want []string // per insertion point
	}{
		{name: "no workdir", src: "FROM busybox\nRUN a\n", want: []string{"/", "/"}},
		{name: "inherited from the parent stage", src: "FROM debian AS app\nWORKDIR /opt/app\nFROM app\nRUN a\n", want: []string{"/opt/app", "/opt/app"}},
		{name: "unrelated stage ignored", src: "FROM debian AS other\nWORKDIR /x\nFROM debian\nRUN a\n", want: []string{"/", "/"}},
		{name: "relative and in the final stage", src: "FROM debian AS app\nWORKDIR /opt\nFROM app\nWORKDIR app\nRUN a\nWORKDIR /srv\n", want: []string{"/opt", "/opt/app", "/opt/app", "/srv"}},
		{name: "variable kept literally", src: "FROM debian\nWORKDIR $HOME\nRUN a\n", want: []string{"/", "$HOME", "$HOME"}},
		{name: "inherited from the base image", src: "FROM drupal\nRUN a\nWORKDIR sub\n", base: "/opt/drupal", want: []string{"/opt/drupal", "/opt/drupal", "/opt/drupal/sub"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDockerfile([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range d.points() {
				got = append(got, d.workdirAt(p, tt.base))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("workdirs %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVariableWorkdirRestoresDrupalWorkdir(t *testing.T) {
	m, _ := Get("variable-workdir")
	for seed := int64(1); seed <= 5; seed++ {
		got, err := ApplyDockerfile(m.(DockerfileMutation), caseDockerfile(t, "111"), seed, Env{BaseWorkdir: "/opt/drupal"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(got, []byte("_dummy\nWORKDIR /opt/drupal\n")) {
			t.Errorf("seed %d: the dummy WORKDIR is not followed by WORKDIR /opt/drupal:\n%s", seed, got)
		}
	}
}

func TestAddDummyLayerStageName(t *testing.T) {
	src := "FROM debian:bookworm AS dummy-builder\nRUN a\nFROM dummy-builder\n"
	m, _ := Get("add-dummy-layer")
	got, err := ApplyDockerfile(m.(DockerfileMutation), []byte(src), 1, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("AS dummy-builder-2\n")) || !bytes.Contains(got, []byte("--from=dummy-builder-2 ")) {
		t.Errorf("existing stage name not avoided:\n%s", got)
	}
	checkMutated(t, []byte(src), got)
}

func TestDockerfileErrors(t *testing.T) {
	tests := []struct {
		name     string
		mutation string
		src      string
		env      Env
		wantErr  error
	}{
		{name: "no FROM", mutation: "dummy-echo", src: "# nothing\nARG X=1\n", wantErr: ErrNoFinalStage},
		{name: "no FROM, tails too", mutation: "conditional-layer", src: "ARG X=1\n", wantErr: ErrNoFinalStage},
		{name: "no server", mutation: "dummy-network", src: "FROM busybox\n", wantErr: ErrNoServerURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := Get(tt.mutation)
			for seed := int64(1); seed <= 4; seed++ {
				_, err := ApplyDockerfile(m.(DockerfileMutation), []byte(tt.src), seed, tt.env)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("seed %d: error %v, want %v", seed, err, tt.wantErr)
				}
			}
		})
	}
}

// Insertion points never fall where the build runs as a non-root user: the
// inserted steps write to / and /tmp as root (a benign image with USER app
// failed to build with a dummy layer after its USER line).
func TestPointsSkipNonRootUser(t *testing.T) {
	src := []byte("FROM debian:bookworm\nRUN a\nUSER app\nRUN b\nUSER 0:0\nRUN c\nUSER nobody\nCMD [\"x\"]\n")
	d, err := parseDockerfile(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, p := range d.points() {
		got = append(got, p.index)
	}
	// After FROM (0), RUN a (1), USER 0:0 (4), RUN c (5); not after USER
	// app (2), RUN b (3), USER nobody (6) or CMD (7).
	if want := []int{0, 1, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("points after instructions %v, want %v", got, want)
	}
	for _, m := range OfKind("dockerfile") {
		for seed := int64(1); seed <= 20; seed++ {
			out, err := ApplyDockerfile(m.(DockerfileMutation), src, seed, Env{ServerURL: testServerURL, BaseWorkdir: "/"})
			if err != nil {
				t.Fatalf("%s seed %d: %v", m.Name(), seed, err)
			}
			after := string(out)[strings.Index(string(out), "USER app"):]
			after = after[:strings.Index(after, "USER 0:0")]
			if after != "USER app\nRUN b\n" {
				t.Fatalf("%s seed %d inserted while USER app is in effect:\n%s", m.Name(), seed, out)
			}
			if tail := string(out)[strings.Index(string(out), "USER nobody"):]; tail != "USER nobody\nCMD [\"x\"]\n" {
				t.Fatalf("%s seed %d inserted after USER nobody:\n%s", m.Name(), seed, out)
			}
		}
	}
}

// Without wget, dummy-network downloads through bash's /dev/tcp; the
// command really fetches the file from a local HTTP server.
func TestDummyNetworkWithoutWget(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	dir := t.TempDir()
	if err := DummyNetworkFiles(dir); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	src := []byte("FROM debian:bookworm\nRUN true\n")
	out, err := ApplyDockerfile(mustGet(t, "dummy-network").(DockerfileMutation), src, 7, Env{ServerURL: srv.URL, NoWget: true})
	if err != nil {
		t.Fatal(err)
	}
	var run string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "RUN bash -c") {
			run = strings.TrimPrefix(l, "RUN ")
		}
	}
	if run == "" || strings.Contains(string(out), "wget") {
		t.Fatalf("no bash download in:\n%s", out)
	}
	// Run it with the file path moved into the temp dir.
	f := regexp.MustCompile(`/tmp/dummy-\d+\.zip`).FindString(run)
	local := filepath.Join(dir, "got.zip")
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(strings.ReplaceAll(run, f, local), " && rm "+local, ""))
	if outb, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", run, err, outb)
	}
	got, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := dummyZip()
	if !bytes.Contains(got, want) || !bytes.HasPrefix(got, []byte("HTTP/1.")) {
		t.Errorf("downloaded %d bytes (%q...), want an HTTP 200 response carrying the %d-byte zip", len(got), got[:min(len(got), 20)], len(want))
	}
}

func mustGet(t *testing.T, name string) Mutation {
	t.Helper()
	m, err := Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
