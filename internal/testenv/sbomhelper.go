package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// SBOMHelperEnv names the inventory baseline's SBOM helper (it is
// inventory.HelperEnv; testenv does not import the baseline).
const SBOMHelperEnv = "STRATA_SBOM_HELPER"

var (
	helperOnce sync.Once
	helperPath string
	helperErr  error
	helperOut  []byte
)

// SBOMHelper builds cmd/strata-sbom from this source tree once per test
// process, points $STRATA_SBOM_HELPER at it (so every inventory detector
// of the test process runs it, never a stale bin/strata-sbom) and returns
// its path. A $STRATA_SBOM_HELPER set before the tests is used as is. The
// build directory is removed by Main.
func SBOMHelper(t testing.TB) string {
	t.Helper()
	helperOnce.Do(func() {
		if p := os.Getenv(SBOMHelperEnv); p != "" {
			helperPath = p
			return
		}
		dir, err := os.MkdirTemp("", "strata-sbom-")
		if err != nil {
			helperErr = err
			return
		}
		helperDir = dir
		p := filepath.Join(dir, "strata-sbom")
		cmd := exec.Command("go", "build", "-o", p, "github.com/strata-sec/strata/cmd/strata-sbom")
		helperOut, helperErr = cmd.CombinedOutput()
		if helperErr == nil {
			helperPath = p
			helperErr = os.Setenv(SBOMHelperEnv, p)
		}
	})
	if helperErr != nil {
		t.Fatalf("build the SBOM helper (go build ./cmd/strata-sbom): %v\n%s", helperErr, helperOut)
	}
	return helperPath
}

var helperDir string
