package drupal

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/strata-sec/strata/corpus/debs"
)

func fakeDebs(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range append(names, debs.ManifestFile) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWriteContext(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("WriteContext builds minerd and needs the go command: %v", err)
	}
	dir := t.TempDir()
	debsDir := fakeDebs(t, "a_1_all.deb", "b_2_amd64.deb")
	if err := WriteContext(dir, debsDir); err != nil {
		t.Fatal(err)
	}

	modes := map[string]os.FileMode{
		"minerd":                              0o755,
		"bin/docker-php-entrypoint":           0o755,
		"bin/apache2-foreground":              0o755,
		"conf/php/20-opcache-recommended.ini": 0o644,
		"app/web/.htaccess":                   0o644,
		"app/web/index.php":                   0o644,
		"app/web/sites/default/settings.php":  0o644,
	}
	for p, want := range modes {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Errorf("context lacks %s: %v", p, err)
			continue
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
		if !st.ModTime().Equal(SourceDate) {
			t.Errorf("%s: mtime %v, want SourceDate %v", p, st.ModTime(), SourceDate)
		}
	}
	for _, n := range []string{"a_1_all.deb", "b_2_amd64.deb", debs.ManifestFile} {
		src, err1 := os.Stat(filepath.Join(debsDir, n))
		dst, err2 := os.Stat(filepath.Join(dir, ContextDebsDir, n))
		if err1 != nil || err2 != nil {
			t.Fatalf("debs/%s: %v %v", n, err1, err2)
		}
		if !os.SameFile(src, dst) {
			t.Errorf("debs/%s is a copy; want a hard link on the same file system", n)
		}
	}

	// The binary is the stand-in: it refuses the paper's pool.
	out, err := exec.Command(filepath.Join(dir, "minerd"), "-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "trudly@outlook.com", "-p", "x", "-t", "1").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(string(out), "only loopback pools are allowed") {
		t.Errorf("minerd with the paper's ENTRYPOINT: err %v, output %q; want a refusal", err, out)
	}

	// A rerun with other packages leaves none of the old ones behind.
	if err := WriteContext(dir, fakeDebs(t, "c_3_all.deb")); err != nil {
		t.Fatal(err)
	}
	got, err := filepath.Glob(filepath.Join(dir, ContextDebsDir, "*.deb"))
	if err != nil || len(got) != 1 || filepath.Base(got[0]) != "c_3_all.deb" {
		t.Errorf("debs after rerun = %v (%v), want only c_3_all.deb", got, err)
	}

	if err := WriteContext(t.TempDir(), t.TempDir()); err == nil {
		t.Error("WriteContext with no .deb files succeeded; want an error")
	}
}

// TestContextMatchesDockerfile checks that every COPY/ADD source and bind
// mount the Dockerfile names exists in the written context.
func TestContextMatchesDockerfile(t *testing.T) {
	dir := t.TempDir()
	if err := WriteContext(dir, fakeDebs(t, "a_1_all.deb")); err != nil {
		t.Fatal(err)
	}
	df, err := Dockerfile(Case{true, true, true}, Options{ServerURL: testServerURL})
	if err != nil {
		t.Fatal(err)
	}
	web, err := WebDockerfile(Options{ServerURL: testServerURL})
	if err != nil {
		t.Fatal(err)
	}
	// Both are built from the same context.
	df = append(append(web, '\n'), df...)
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, st := range stages {
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				sources = append(sources, c.SourcePaths...)
			case *instructions.AddCommand:
				sources = append(sources, c.SourcePaths...)
			case *instructions.RunCommand:
				for _, f := range c.FlagsUsed {
					if f == "mount" {
						sources = append(sources, ContextDebsDir)
					}
				}
			}
		}
	}
	if len(sources) < 5 {
		t.Fatalf("found only %d context sources: %v", len(sources), sources)
	}
	for _, s := range sources {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s))); err != nil {
			t.Errorf("Dockerfile names %q, missing from the context: %v", s, err)
		}
	}
}

// TestBuildMinerdReproducible builds the stand-in twice: the bytes must not
// depend on the build directory or time.
func TestBuildMinerdReproducible(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "minerd"), filepath.Join(t.TempDir(), "minerd")
	for _, p := range []string{a, b} {
		if err := BuildMinerd(p); err != nil {
			t.Fatal(err)
		}
	}
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Error("two builds of minerd differ")
	}
	if !bytes.HasPrefix(da, []byte("\x7fELF")) {
		t.Error("minerd is not an ELF file")
	}
	// What a detector's strings pass finds in a real cpuminer-multi binary.
	for _, s := range []string{"cryptonight", "stratum+tcp", "mining.subscribe", "mining.submit", "cpuminer-multi/0.1", "--algo"} {
		if !bytes.Contains(da, []byte(s)) {
			t.Errorf("minerd lacks the string %q", s)
		}
	}
	if bytes.Contains(da, []byte(os.TempDir())) {
		t.Error("minerd embeds the temporary build path; -trimpath is not in effect")
	}
}

func TestPackages(t *testing.T) {
	p := Packages()
	for _, want := range []string{"apache2", "libapache2-mod-php", "php-cli", "php-mysql", "php-gd", "php-xml", "php-mbstring", "git", "curl", "wget", "ca-certificates"} {
		found := false
		for _, n := range p {
			found = found || n == want
		}
		if !found {
			t.Errorf("Packages() lacks %s", want)
		}
	}
	for _, n := range p {
		if n == "ssl-cert" {
			t.Error("ssl-cert generates a random snakeoil key at install time; the layer would not be reproducible")
		}
	}
}
