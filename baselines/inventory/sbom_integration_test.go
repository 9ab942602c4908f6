package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// syftCLI is bin/syft, which make setup builds from go.mod's syft; a
// missing one fails the test (an integration test must not pass by doing
// nothing).
func syftCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration: needs bin/syft, the SBOM helper and (for the benign image) buildkitd and debootstrap; run without -short (make test does)")
	}
	syftBin, err := filepath.Abs(filepath.Join("..", "..", "bin", "syft"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(syftBin); err != nil {
		t.Fatalf("syft CLI not found: run make setup (builds bin/syft from go.mod's syft): %v", err)
	}
	return syftBin
}

// TestSBOMMatchesSyftCLI: the SBOM of an image made here (staged by
// strata, cataloged by the strata-sbom helper with syft as a library) has
// the packages the syft CLI of the same version reports for it. The benign
// corpus image is compared by TestSBOMBenignMatchesSyftCLI
// (sbom_benign_integration_test.go), which builds it.
func TestSBOMMatchesSyftCLI(t *testing.T) {
	syftBin := syftCLI(t)
	got := compareWithSyftCLI(t, syftBin, "test/made-here", madeHereImage(t))
	// Both sides could agree on nothing: pin what is there.
	joined := strings.Join(got, "\n")
	for _, w := range []string{"deb base-files 12.4+deb12u5", "npm left-pad 1.3.0", "npm ms 2.1.3", "python requests 2.31.0"} {
		if !strings.Contains(joined, w) {
			t.Errorf("SBOM lacks %q: %v", w, got)
		}
	}
	if strings.Contains(joined, "debug") {
		t.Errorf("SBOM lists the deleted npm package debug: %v", got)
	}
}

// compareWithSyftCLI catalogs img with the helper and, written as a
// one-image OCI layout, with the syft CLI (same catalogers), fails unless
// both list the same packages, logs each side's time (the census catalogs
// once per image) and returns the helper's packages as "type name version".
func compareWithSyftCLI(t *testing.T, syftBin, name string, img v1.Image) []string {
	t.Helper()
	t0 := time.Now()
	s, err := catalog(t, img, nil)
	if err != nil {
		t.Fatal(err)
	}
	lib := time.Since(t0)
	got := pkgKeys(s.Packages)

	dir := filepath.Join(t.TempDir(), "oci")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "oci-dir:" + dir, "-o", "json", "-q"}
	for _, c := range ExtraCatalogers {
		args = append(args, "--select-catalogers", "+"+c)
	}
	cmd := exec.Command(syftBin, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	t1 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("syft %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	cli := time.Since(t1)
	var doc struct {
		Artifacts []struct {
			Type, Name, Version string
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("syft JSON: %v", err)
	}
	var want []string
	for _, a := range doc.Artifacts {
		want = append(want, fmt.Sprintf("%s %s %s", a.Type, a.Name, a.Version))
	}
	sort.Strings(want)
	t.Logf("%s: %d packages; helper %v, CLI %v (process start and layout read included)", name, len(got), lib.Round(time.Millisecond), cli.Round(time.Millisecond))
	if len(got) != len(want) {
		t.Errorf("library found %d packages, syft CLI %d\nonly library: %v\nonly CLI: %v", len(got), len(want), minus(got, want), minus(want, got))
	} else if d := minus(got, want); len(d) > 0 {
		t.Errorf("same count, different packages: only library %v, only CLI %v", d, minus(want, got))
	}
	return got
}

// madeHereImage has packages of several catalogers in three layers, the
// last deleting one npm package (squashed scope: neither side lists it).
func madeHereImage(t *testing.T) v1.Image {
	t.Helper()
	lock := `{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
  "": {"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0", "ms": "2.1.3"}},
  "node_modules/left-pad": {"version": "1.3.0", "resolved": "https://registry.example/left-pad/-/left-pad-1.3.0.tgz", "integrity": "sha512-AAAA"},
  "node_modules/ms": {"version": "2.1.3", "resolved": "https://registry.example/ms/-/ms-2.1.3.tgz", "integrity": "sha512-BBBB"}}}`
	meta := "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: test fixture, no code\n"
	return dt.Image(t, v1.Config{},
		dt.Run("/bin/sh -c #(nop) ADD file:base in /", dt.Text("var/lib/dpkg/status", dpkgStatus), dt.Text("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
		dt.Run("RUN npm install && pip install requests",
			dt.Text("app/package-lock.json", lock),
			dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0")),
			dt.Text("app/node_modules/ms/package.json", pkgJSON("ms", "2.1.3")),
			dt.Text("app/node_modules/debug/package.json", pkgJSON("debug", "4.3.4")),
			dt.Text("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", meta),
			dt.Text("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/RECORD", "requests/__init__.py,,\n"),
			dt.Text("usr/lib/python3/dist-packages/requests/__init__.py", "# test fixture\n")),
		dt.Run("RUN rm -rf /app/node_modules/debug", dt.Whiteout("app/node_modules/debug")),
	)
}

func pkgKeys(ps []Package) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s %s %s", p.Type, p.Name, p.Version)
	}
	sort.Strings(out)
	return out
}

// minus is a - b as multisets.
func minus(a, b []string) []string {
	n := map[string]int{}
	for _, x := range b {
		n[x]++
	}
	var out []string
	for _, x := range a {
		if n[x] > 0 {
			n[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}
