package detectortest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// GoBinary builds the Go program in pkgDir (a path relative to the test's
// package, e.g. "../../internal/sandbox/testdata/probe") as a static
// binary and returns its bytes, for a layer of a test image.
func GoBinary(t testing.TB, pkgDir string) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkgDir))
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkgDir)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkgDir, err, out)
	}
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
