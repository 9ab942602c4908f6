package inventory_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sec/strata/baselines/inventory"
	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/store"
)

// benignImage is the benign corpus image compared with the syft CLI:
// Debian's restic, so the SBOM has Debian packages (dpkg) and a Go binary's
// modules (restic is a statically linked Go program).
const benignImage = "restic-backup"

// TestSBOMBenignMatchesSyftCLI builds one benign corpus image the way the
// benign experiment does (debootstrap base, the host's apt for the
// packages, a private buildkitd; STRATA_TEST_CACHE keeps them between
// runs, as for the experiments' end-to-end test) and checks that the
// helper's SBOM of it has the packages the syft CLI reports. It never
// skips outside -short: a missing tool fails it.
func TestSBOMBenignMatchesSyftCLI(t *testing.T) {
	syftBin := inventory.SyftCLI(t)
	cache := os.Getenv("STRATA_TEST_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	cfg := experiments.Config{CacheDir: cache, RunsDir: t.TempDir(), Seed: 1, ServeAddr: "127.0.0.1:0", BuildOnly: true,
		Slice: experiments.Slice{Benign: []string{benignImage}}, Log: &testLog{t}}
	if _, err := experiments.Run(context.Background(), experiments.Benign, cfg); err != nil {
		t.Fatalf("build benign/%s: %v (needs buildkitd, runc, debootstrap and the host's apt: run make setup)", benignImage, err)
	}
	st, err := store.Open(filepath.Join(cache, "store"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.Lookup("benign/" + benignImage)
	if err != nil {
		t.Fatalf("the benign build left no benign/%s in the store: %v", benignImage, err)
	}
	img, err := st.Image(e.Descriptor.Digest)
	if err != nil {
		t.Fatal(err)
	}
	got := inventory.CompareWithSyftCLI(t, syftBin, "benign/"+benignImage, img)
	// Both sides could agree on nothing: the packages the image is about.
	joined := strings.Join(got, "\n")
	for _, w := range []string{"deb restic ", "deb base-files ", "go-module github.com/restic/restic", "go-module stdlib "} {
		if !strings.Contains(joined, w) {
			t.Errorf("SBOM lacks %q: %v", w, got)
		}
	}
}

// testLog sends the build's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
