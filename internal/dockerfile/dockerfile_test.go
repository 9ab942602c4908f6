package dockerfile

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestParseStages(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		wantStage []string // base/name:instruction count
		wantChain []string // stage bases, root first
		wantErr   error
	}{
		{"one stage", "FROM debian\nRUN a\nENV X=1\n", []string{"debian/:2"}, []string{"debian"}, nil},
		{"global ARG belongs to no stage", "ARG V=1\nFROM debian:${V}\nRUN a\n", []string{"debian:${v}/:1"}, []string{"debian:${v}"}, nil},
		{"names lower-cased", "FROM Debian AS App\nRUN a\nFROM app\nRUN b\n", []string{"debian/app:1", "app/:1"}, []string{"debian", "app"}, nil},
		{"unrelated stage left out", "FROM a AS s1\nRUN x\nFROM b AS other\nRUN y\nFROM s1 AS s2\nFROM s2\nRUN z\n",
			[]string{"a/s1:1", "b/other:1", "s1/s2:0", "s2/:1"}, []string{"a", "s1", "s2"}, nil},
		{"FROM an image named like no stage", "FROM a AS b\nFROM c\n", []string{"a/b:0", "c/:0"}, []string{"c"}, nil},
		{"no FROM", "RUN a\n", nil, nil, ErrNoStage},
		{"only a global ARG", "ARG V=1\n", nil, nil, ErrNoStage},
		{"cycle", "FROM b AS a\nFROM a AS b\nFROM b\n", nil, nil, ErrStageCycle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.src))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var stages, chain []string
			for _, st := range f.Stages {
				stages = append(stages, st.Base+"/"+st.Name+":"+string(rune('0'+len(st.Instructions))))
			}
			for _, st := range f.Chain() {
				chain = append(chain, st.Base)
			}
			if !reflect.DeepEqual(stages, tt.wantStage) || !reflect.DeepEqual(chain, tt.wantChain) {
				t.Errorf("stages %v chain %v, want %v %v", stages, chain, tt.wantStage, tt.wantChain)
			}
			if f.Final() != f.Stages[len(f.Stages)-1] {
				t.Error("Final is not the last stage")
			}
			if got := strings.Join(f.Lines, ""); got != tt.src {
				t.Errorf("Lines join to %q, want the source", got)
			}
		})
	}
}

func TestChainInstructions(t *testing.T) {
	f, err := Parse([]byte("FROM debian AS app\nRUN a\nFROM busybox AS x\nRUN y\nFROM app\nRUN b\nCMD c\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range f.ChainInstructions() {
		got = append(got, n.Original)
	}
	if want := []string{"RUN a", "RUN b", "CMD c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMarker(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"marked", "FROM a\n# strata:malicious=L8\nRUN x\n", "L8"},
		{"marker above another comment", "FROM a\n# strata:malicious=L9\n# install\nRUN x\n", "L9"},
		{"no space after #", "FROM a\n#strata:malicious=L10\nRUN x\n", "L10"},
		{"other comment", "FROM a\n# install\nRUN x\n", ""},
		{"blank line in between", "FROM a\n# strata:malicious=L8\n\nRUN x\n", "L8"}, // the parser keeps comments across blank lines
		{"no comment", "FROM a\nRUN x\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := Marker(f.Final().Instructions[0]); got != tt.want {
				t.Errorf("Marker = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Marked("L8", "RUN x"); !reflect.DeepEqual(got, []string{"# strata:malicious=L8", "RUN x"}) {
		t.Errorf("Marked = %q", got)
	}
	if got := Marked("", "RUN x"); !reflect.DeepEqual(got, []string{"RUN x"}) {
		t.Errorf("Marked without tag = %q", got)
	}
}

func TestIsRoot(t *testing.T) {
	tests := []struct {
		user string
		want bool
	}{
		{"", true}, // no USER set: the default user, root
		{"root", true},
		{"0", true},
		{"root:root", true},
		{"root:wheel", true},
		{"0:0", true},
		{"0:1000", true},
		{"app", false},
		{"1000", false},
		{"1000:0", false},
		{"rootless", false},
		{"00", false},
		{":0", false},
		{"${USER}", false},
		{`""`, false},
	}
	for _, tt := range tests {
		if got := IsRoot(tt.user); got != tt.want {
			t.Errorf("IsRoot(%q) = %v, want %v", tt.user, got, tt.want)
		}
	}
}

// TestUserValueNeverEmpty pins what IsRoot's empty-string answer relies
// on: a written USER instruction never parses to an empty value.
func TestUserValueNeverEmpty(t *testing.T) {
	for _, line := range []string{`USER ""`, `USER ''`, "USER  app ", `USER "" ""`} {
		f, err := Parse([]byte("FROM a\n" + line + "\n"))
		if err != nil {
			continue // refused: no value at all
		}
		for _, n := range f.Final().Instructions {
			if n.Next != nil && n.Next.Value == "" {
				t.Errorf("%s parses to an empty USER value", line)
			}
		}
	}
}

func TestSpliceGolden(t *testing.T) {
	const src = "# syntax=docker/dockerfile:1\nFROM debian AS app\nRUN a\n\nFROM app\n# strata:malicious=L8\nRUN <<EOF\necho x\nEOF\nCMD [\"x\"]"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	fin := f.Final().Instructions
	tests := []struct {
		name  string
		edits []Edit
	}{
		{"none", nil},
		{"insert at top", []Edit{Insert(0, "ARG V=1")}},
		{"insert after FROM", []Edit{Insert(f.Final().From.EndLine, "RUN y")}},
		{"same point keeps order", []Edit{Insert(3, "RUN 1"), Insert(3, "RUN 2")}},
		{"replace heredoc keeps marker", []Edit{Replace(fin[0], "RUN z", MarkerLine("L8"), "RUN w")}},
		{"append after last line without newline", []Edit{Insert(len(f.Lines), "LABEL a=b")}},
		{"replace last line", []Edit{Replace(fin[1], `CMD ["y"]`)}},
		{"out of order", []Edit{Insert(9, "RUN late"), Insert(2, "RUN early")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.Splice(tt.edits...)
			file := filepath.Join("testdata", "splice", strings.ReplaceAll(tt.name, " ", "-")+".Dockerfile.golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (go test ./internal/dockerfile -run TestSpliceGolden -update writes it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("Splice =\n%s\nwant\n%s", got, want)
			}
			if _, err := Parse(got); err != nil {
				t.Errorf("spliced text does not parse: %v", err)
			}
		})
	}
	if f.Text(fin[0]) != "RUN <<EOF\necho x\nEOF\n" {
		t.Errorf("Text = %q", f.Text(fin[0]))
	}
}

func TestJSONArray(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "[]"},
		{[]string{"/bin/x"}, `["/bin/x"]`},
		{[]string{"sh", "-c", `a > b && echo "$@"`}, `["sh", "-c", "a > b && echo \"$@\""]`},
	}
	for _, tt := range tests {
		if got := JSONArray(tt.args); got != tt.want {
			t.Errorf("JSONArray(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}
