package testenv

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/strata-sec/strata/internal/buildkit"
)

var (
	once   sync.Once
	daemon *buildkit.Daemon
	addr   string
	state  string
	errBK  error
)

// BuildkitAddr returns the address of a running buildkitd: the one given in
// $STRATA_BUILDKIT_ADDR, or a private one started on first use (state under
// a temp dir, stopped by Main). It skips the test under -short and fails it
// when the daemon cannot start, because integration tests must not pass by
// doing nothing.
func BuildkitAddr(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs buildkitd and runc (run without -short; `make test` does)")
	}
	once.Do(func() {
		if a := os.Getenv("STRATA_BUILDKIT_ADDR"); a != "" {
			addr = a
			return
		}
		state, errBK = os.MkdirTemp("", "strata-bk-")
		if errBK != nil {
			return
		}
		daemon, errBK = buildkit.StartDaemon(context.Background(), buildkit.DaemonConfig{StateDir: filepath.Join(state, "s")})
		if errBK == nil {
			addr = daemon.Addr
		}
	})
	if errBK != nil {
		t.Fatalf("start buildkitd: %v", errBK)
	}
	return addr
}

// Main runs the tests, then stops the daemon and removes the SBOM helper
// SBOMHelper built; call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if daemon != nil {
		_ = daemon.Stop()
	}
	if state != "" {
		_ = os.RemoveAll(state)
	}
	if helperDir != "" {
		_ = os.RemoveAll(helperDir)
	}
	return code
}
