package inventory

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-sec/strata/internal/store"
	"github.com/strata-sec/strata/internal/testenv"
)

// storeDir is the experiments' store: $STRATA_STORE, else the default
// under the user cache dir.
func storeDir(t testing.TB) string {
	if d := os.Getenv("STRATA_STORE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "strata", "store")
}

// TestSBOMTimes logs how long an inventory (staging plus the SBOM helper)
// takes on three store images, cold (empty layer cache) then warm. It
// measures, it does not judge: run it with STRATA_INVENTORY_TIMES=1;
// STRATA_INVENTORY_IMAGES=a,b picks the store images and
// STRATA_INVENTORY_WARM_RUNS=N repeats the warm scan. One helper serves
// every scan, as in an experiment (its start is in the first cold time).
func TestSBOMTimes(t *testing.T) {
	if os.Getenv("STRATA_INVENTORY_TIMES") == "" {
		t.Skip("measurement: set STRATA_INVENTORY_TIMES=1 (needs the store: make benign, make census)")
	}
	st, err := store.Open(storeDir(t))
	if err != nil {
		t.Fatalf("open store: %v (run make benign, or set STRATA_STORE)", err)
	}
	cat := NewCataloger(testenv.SBOMHelper(t), 1)
	defer cat.Close()
	warmRuns := 1
	if n, err := strconv.Atoi(os.Getenv("STRATA_INVENTORY_WARM_RUNS")); err == nil {
		warmRuns = n
	}
	names := []string{"base/debian:bookworm", "benign/electrum-wallet", "census/debian/libjansson4"}
	if n := os.Getenv("STRATA_INVENTORY_IMAGES"); n != "" {
		names = strings.Split(n, ",")
	}
	cache, err := OpenLayerCache(filepath.Join(t.TempDir(), "layers"), -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		e, err := st.Lookup(name)
		if err != nil {
			t.Skipf("%s is not in the store: %v", name, err)
		}
		img, err := st.Image(e.Descriptor.Digest)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i <= warmRuns; i++ {
			run := "cold"
			if i > 0 {
				run = "warm"
			}
			t0 := time.Now()
			s, err := cat.Catalog(context.Background(), img, cache)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: %d packages in %v", name, run, len(s.Packages), time.Since(t0).Round(time.Millisecond))
		}
	}
}
