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

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/strata-sec/strata/internal/store"
)

// storeDir is the experiments' store: $STRATA_STORE, else the default
// under the user cache dir.
func storeDir(t *testing.T) string {
	if d := os.Getenv("STRATA_STORE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "strata", "store")
}

// The SBOM of a benign corpus image (staged by strata, cataloged by the
// strata-sbom helper with syft as a library) has the packages the syft CLI
// of the same version reports for it (written as a one-image OCI layout),
// with the same catalogers. Logs each side's time: the census catalogs
// once per image.
func TestSBOMMatchesSyftCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: needs bin/syft (make setup) and the benign corpus in the store (make benign)")
	}
	syftBin, err := filepath.Abs(filepath.Join("..", "..", "bin", "syft"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(syftBin); err != nil {
		t.Fatalf("syft CLI not found: run make setup (builds bin/syft from go.mod's syft): %v", err)
	}
	st, err := store.Open(storeDir(t))
	if err != nil {
		t.Fatalf("open store: %v (run make benign, or set STRATA_STORE)", err)
	}
	tests := []struct {
		name  string
		image string
	}{
		{name: "small: python and Debian packages", image: "benign/electrum-wallet"},
		{name: "large: a JDK", image: "benign/census-openjdk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := st.Lookup(tt.image)
			if err != nil {
				t.Skipf("%s is not in the store: run make benign first (%v)", tt.image, err)
			}
			img, err := st.Image(e.Descriptor.Digest)
			if err != nil {
				t.Fatal(err)
			}
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
			t.Logf("%s: %d packages; helper %v, CLI %v (process start and layout read included)", tt.image, len(got), lib.Round(time.Millisecond), cli.Round(time.Millisecond))
			if len(got) != len(want) {
				t.Errorf("library found %d packages, syft CLI %d\nonly library: %v\nonly CLI: %v", len(got), len(want), minus(got, want), minus(want, got))
			} else if d := minus(got, want); len(d) > 0 {
				t.Errorf("same count, different packages: only library %v, only CLI %v", d, minus(want, got))
			}
		})
	}
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
