package benign

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

var update = flag.Bool("update", false, "rewrite testdata/*.Dockerfile.golden from the current output")

// allImages is the benign corpus and the census set.
func allImages() []Image { return append(Images(), CensusImages()...) }

const testServerURL = "http://127.0.0.1:8931"

func TestImagesWellFormed(t *testing.T) {
	seen := map[string]bool{}
	if n := len(Images()); n < 12 {
		t.Errorf("%d images, want at least 12", n)
	}
	if n := len(CensusImages()); n < 6 {
		t.Errorf("%d census images, want at least 6", n)
	}
	for _, im := range allImages() {
		if seen[im.Name] {
			t.Errorf("duplicate image %s", im.Name)
		}
		seen[im.Name] = true
		if im.From != FromDebian && im.From != FromDrupal {
			t.Errorf("%s: From %q", im.Name, im.From)
		}
		if im.Description == "" {
			t.Errorf("%s: no description", im.Name)
		}
	}
}

// TestDockerfileGolden renders every image's Dockerfile, compares it with
// testdata/<name>.Dockerfile.golden and checks that BuildKit's parser
// accepts it, that it is built FROM the image's From, that it installs
// packages exactly when the image has some, and that it names only files
// its context has.
func TestDockerfileGolden(t *testing.T) {
	for _, im := range allImages() {
		t.Run(im.Name, func(t *testing.T) {
			got, err := im.Dockerfile(Options{ServerURL: testServerURL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", im.Name+".Dockerfile.golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Dockerfile differs from %s (run go test -update and review the diff)", golden)
			}
			if strings.Contains(string(got), "strata:malicious") {
				t.Errorf("benign Dockerfile carries a malicious marker")
			}
			if strings.Contains(string(got), "<no value>") {
				t.Errorf("unfilled template value")
			}
			res, err := parser.Parse(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			stages, _, err := instructions.Parse(res.AST, nil)
			if err != nil {
				t.Fatalf("instructions: %v", err)
			}
			if len(stages) != 1 || stages[0].BaseName != im.From {
				t.Fatalf("stages %d, FROM %q, want one stage FROM %q", len(stages), stages[0].BaseName, im.From)
			}
			installs := strings.Contains(string(got), "target=/tmp/debs")
			if installs != (len(im.Packages) > 0) {
				t.Errorf("installs debs: %v, packages: %v", installs, im.Packages)
			}
			files := im.Files()
			for _, cmd := range stages[0].Commands {
				var srcs []string
				switch c := cmd.(type) {
				case *instructions.CopyCommand:
					srcs = c.SourcePaths
				case *instructions.AddCommand:
					srcs = c.SourcePaths
				}
				for _, s := range srcs {
					s = strings.TrimSuffix(s, "/")
					ok := slices.ContainsFunc(files, func(f string) bool { return f == s || strings.HasPrefix(f, s+"/") })
					if !ok {
						t.Errorf("COPY source %q is not in the context (%v)", s, files)
					}
				}
			}
		})
	}
}

func TestDockerfileNeedsServerURL(t *testing.T) {
	if _, err := Images()[0].Dockerfile(Options{}); err == nil {
		t.Fatal("no error without ServerURL")
	}
}

func TestWriteContext(t *testing.T) {
	debsDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(debsDir, "x_1_all.deb"), []byte("deb"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, im := range Images() {
		dir := filepath.Join(t.TempDir(), im.Name)
		if err := im.WriteContext(dir, debsDir); err != nil {
			t.Fatalf("%s: %v", im.Name, err)
		}
		_, err := os.Stat(filepath.Join(dir, ContextDebsDir, "x_1_all.deb"))
		if (err == nil) != (len(im.Packages) > 0) {
			t.Errorf("%s: debs present: %v, packages %v", im.Name, err == nil, im.Packages)
		}
		for _, f := range im.Files() {
			st, err := os.Stat(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if !st.ModTime().Equal(SourceDate) || st.Mode().Perm() != fileMode(f) {
				t.Errorf("%s/%s: mode %v mtime %v", im.Name, f, st.Mode(), st.ModTime())
			}
		}
	}
}

func TestWriteServed(t *testing.T) {
	dir := t.TempDir()
	if err := WriteServed(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"benign/bolt/install.sh", "benign/composer/installer", "benign/src/wordcount-2.1.tar.gz",
		"benign/health/ping/6f1c2a8e-backup", "benign/health/ping/b3d9e0f4-drupal-files"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
}
