package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/strata-sec/strata/internal/registryproc"
)

// RegistryBinary is the CNCF distribution registry as Debian's
// docker-registry package installs it (`make setup` installs the package).
const RegistryBinary = "/usr/bin/docker-registry"

// registryBin is RegistryBinary; tests point it elsewhere.
var registryBin = RegistryBinary

// RegistryOption configures Registry.
type RegistryOption func(*registryConfig)

type registryConfig = registryproc.Config

// RegistryNotify makes the registry send its event notifications to url
// with "Authorization: Bearer token".
func RegistryNotify(url, token string) RegistryOption {
	return func(c *registryConfig) { c.NotifyURL, c.NotifyToken = url, token }
}

// RegistryDelete lets clients delete manifests (storage.delete.enabled).
func RegistryDelete() RegistryOption { return func(c *registryConfig) { c.Delete = true } }

// Registry starts a private, unauthenticated plain-HTTP registry (Debian's
// docker-registry, never the system service) on 127.0.0.1 with a random free
// port, its own storage under t.TempDir() and a generated config.yml, waits
// until GET /v2/ answers 200 and returns its host:port. The registry is
// stopped when t ends. It skips the test under -short and fails it when the
// binary is missing or the registry does not come up, because integration
// tests must not pass by doing nothing.
func Registry(t testing.TB, opts ...RegistryOption) string {
	t.Helper()
	var c registryConfig
	for _, o := range opts {
		o(&c)
	}
	if testing.Short() {
		t.Skip("integration test: needs a real registry (Debian's docker-registry; run without -short; `make test` does)")
	}
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		bin = registryBin
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("docker-registry not installed: run make setup (%v)", err)
	}
	dir := t.TempDir()
	// A free port can be taken between our probe and the registry's bind:
	// retry with a fresh port when that is why the registry exited.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		r, err := registryproc.Start(bin, filepath.Join(dir, fmt.Sprintf("try%d", attempt)), c)
		if err == nil {
			t.Cleanup(r.Stop)
			return r.Addr
		}
		lastErr = err
		if !errors.Is(err, registryproc.ErrAddrInUse) {
			break
		}
	}
	t.Fatalf("start docker-registry: %v", lastErr)
	return ""
}
