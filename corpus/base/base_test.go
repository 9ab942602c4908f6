package base

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/strata-sec/strata/internal/store"
)

func TestBusybox(t *testing.T) {
	if _, err := os.Stat(BusyboxPath); err != nil {
		if testing.Short() {
			t.Skip("busybox-static not installed (run `make setup`)")
		}
		t.Fatalf("busybox-static not installed: run `make setup`")
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d1, err := Busybox(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Busybox(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if d1.Digest != d2.Digest {
		t.Errorf("second import gave %s, want cached %s", d2.Digest, d1.Digest)
	}
	img, err := st.Image(d1.Digest)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(img, "/etc/passwd", 1<<20)
	if err != nil || !strings.HasPrefix(string(b), "root:") {
		t.Errorf("/etc/passwd = %q, %v", b, err)
	}
}

// TestDebian runs debootstrap for real (about a minute) and checks the
// image is cached by its inputs.
func TestDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs debootstrap (run without -short; `make test` does)")
	}
	dir := os.Getenv("STRATA_TEST_STORE")
	if dir == "" {
		dir = t.TempDir()
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := Debian(context.Background(), st, DebianOptions{Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Debian(context.Background(), st, DebianOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d1.Digest != d2.Digest {
		t.Errorf("second call gave %s, want cached %s", d2.Digest, d1.Digest)
	}
	img, err := st.Image(d1.Digest)
	if err != nil {
		t.Fatal(err)
	}
	status, err := ReadFile(img, "var/lib/dpkg/status", 16<<20)
	if err != nil || !strings.Contains(string(status), "Package: dpkg") {
		t.Errorf("dpkg status: %v", err)
	}
	if _, err := ReadFile(img, "var/log/dpkg.log", 1<<20); err == nil {
		t.Errorf("var/log/dpkg.log kept: it holds run-specific timestamps")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { return len(p), nil }
