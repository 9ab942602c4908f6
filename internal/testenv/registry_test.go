package testenv

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRegistry starts two registries (they must not share a port or
// storage), checks the API answers, and that stopping one frees its port.
func TestRegistry(t *testing.T) {
	var addrs []string
	t.Run("start", func(t *testing.T) {
		a, b := Registry(t), Registry(t)
		if a == b || !strings.HasPrefix(a, "127.0.0.1:") {
			t.Fatalf("addresses %q and %q: want two distinct loopback ports", a, b)
		}
		for _, addr := range []string{a, b} {
			resp, err := http.Get("http://" + addr + "/v2/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /v2/ on %s: %s", addr, resp.Status)
			}
		}
		addrs = []string{a, b}
	})
	if t.Skipped() || len(addrs) == 0 {
		return
	}
	// The subtest's cleanup has stopped both registries.
	for _, addr := range addrs {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the test ended", addr)
		}
	}
}

// fatalTB records Fatalf and stops the caller, as testing.T would.
type fatalTB struct {
	testing.TB
	msg string
}

type fatalStop struct{}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalStop{})
}

// TestRegistryMissingBinary: a missing binary fails the test, never skips it.
func TestRegistryMissingBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("Registry skips under -short before looking for the binary")
	}
	t.Setenv("PATH", t.TempDir())
	old := registryBin
	registryBin = "/nonexistent/docker-registry"
	defer func() { registryBin = old }()
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatalStop); !ok {
					panic(r)
				}
			}
		}()
		Registry(f)
	}()
	if !strings.Contains(f.msg, "docker-registry not installed: run make setup") {
		t.Fatalf("Fatalf message = %q", f.msg)
	}
}
