package inventory

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// catalog runs img through a helper built from this tree (a private layer
// cache when cache is nil).
func catalog(t testing.TB, img v1.Image, cache *LayerCache) (*SBOM, error) {
	t.Helper()
	if cache == nil {
		c, done, err := tempLayerCache(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		cache = c
	}
	c := NewCataloger(testenv.SBOMHelper(t), 1)
	defer c.Close()
	return c.Catalog(context.Background(), img, cache)
}

// writeScript writes an executable shell script standing in for the helper.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-helper")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// What goes wrong with the helper is an error that says what happened,
// never an empty inventory.
func TestCatalogHelperFailures(t *testing.T) {
	img := debianImage(t, dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0")))
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		wantErr string
	}{
		{name: "exits at once", script: "echo 'boom: out of luck' >&2; exit 3", wantErr: "boom: out of luck"},
		{name: "other protocol", script: `read line; echo '{"protocol":99,"packages":[]}'`, wantErr: "protocol 99"},
		{name: "reports an error", script: `read line; echo '{"protocol":1,"error":"sbom: read image: no"}'`, wantErr: "sbom: read image: no"},
		{name: "not JSON", script: "read line; echo 'hello'", wantErr: "response"},
		{name: "hangs", script: "read line; sleep 60", timeout: 500 * time.Millisecond, wantErr: context.DeadlineExceeded.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache, done, err := tempLayerCache(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			c := NewCataloger(writeScript(t, tt.script), 1)
			defer c.Close()
			start := time.Now()
			s, err := c.Catalog(ctx, img, cache)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Catalog = %+v, %v; want an error containing %q", s, err, tt.wantErr)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

// Without a helper the detector says how to get one.
func TestDetectorWithoutHelper(t *testing.T) {
	t.Setenv(HelperEnv, "")
	t.Setenv("PATH", t.TempDir())
	d := New(WithTempDir(t.TempDir()))
	_, err := d.Scan(context.Background(), debianImage(t))
	if err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Fatalf("Scan without a helper: %v, want an error that says run make setup", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// One helper serves several images in turn, and Close stops it.
func TestCatalogReusesHelper(t *testing.T) {
	c := NewCataloger(testenv.SBOMHelper(t), 1)
	cache, done, err := tempLayerCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	for i, want := range []int{2, 3} {
		files := []dt.File{dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0"))}
		if i == 1 {
			files = append(files, dt.Text("app/node_modules/coa/package.json", pkgJSON("coa", "2.0.4")))
		}
		s, err := c.Catalog(context.Background(), debianImage(t, files...), cache)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Packages) != want || s.SyftVersion == "" {
			t.Errorf("image %d: %d packages (syft %q), want %d", i, len(s.Packages), s.SyftVersion, want)
		}
	}
	c.mu.Lock()
	n := len(c.idle)
	c.mu.Unlock()
	if n != 1 {
		t.Errorf("%d idle helpers after two scans in turn, want 1", n)
	}
	c.Close()
	if _, err := c.Catalog(context.Background(), debianImage(t), cache); err == nil {
		t.Error("Catalog after Close succeeded")
	}
}

// A helper that died while idle is not handed the next request: a new one
// serves it.
func TestCatalogReplacesDeadIdleHelper(t *testing.T) {
	c := NewCataloger(testenv.SBOMHelper(t), 1)
	defer c.Close()
	cache, done, err := tempLayerCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	img := debianImage(t, dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0")))
	if _, err := c.Catalog(context.Background(), img, cache); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	if len(c.idle) != 1 {
		c.mu.Unlock()
		t.Fatalf("%d idle helpers, want 1", len(c.idle))
	}
	dead := c.idle[0]
	c.mu.Unlock()
	_ = dead.cmd.Process.Kill()
	<-dead.exited
	s, err := c.Catalog(context.Background(), img, cache)
	if err != nil || len(s.Packages) != 2 {
		t.Fatalf("after the idle helper died: %v packages, err %v; want 2 packages from a new helper", s, err)
	}
}
