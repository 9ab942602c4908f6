package inventory

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-sec/strata/internal/store"
)

// TestSBOMTimes logs how long BuildSBOM takes on three store images, cold
// (empty layer cache) then warm. It measures, it does not judge: run it with
// STRATA_INVENTORY_TIMES=1; STRATA_INVENTORY_IMAGES=a,b picks the store
// images, STRATA_INVENTORY_WARM_RUNS=N repeats the warm scan and
// STRATA_INVENTORY_PROFILE=FILE writes a CPU profile of the whole test.
func TestSBOMTimes(t *testing.T) {
	if os.Getenv("STRATA_INVENTORY_TIMES") == "" {
		t.Skip("measurement: set STRATA_INVENTORY_TIMES=1 (needs the store: make benign, make census)")
	}
	st, err := store.Open(storeDir(t))
	if err != nil {
		t.Fatalf("open store: %v (run make benign, or set STRATA_STORE)", err)
	}
	if p := os.Getenv("STRATA_INVENTORY_PROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
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
			s, err := BuildSBOM(context.Background(), img, cache, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s: %d packages in %v", name, run, s.Artifacts.Packages.PackageCount(), time.Since(t0).Round(time.Millisecond))
		}
	}
}
