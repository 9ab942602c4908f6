package main

import (
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/sandbox"
)

func TestScanDynamicFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string]v1.Image{"clean": cleanImage(t)})
	_, stderr, code := scan(t, "--dynamic", "--dynamic-timeout", "0s", dir)
	if code != 2 || !strings.Contains(stderr, "--dynamic-timeout must be positive") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
}

// TestScanDynamic runs the sandbox's inert probe through strata scan
// --dynamic (root and runc needed): its stratum login joins the verdict.
func TestScanDynamic(t *testing.T) {
	if testing.Short() {
		t.Skip("scan --dynamic integration test: skipped with -short")
	}
	if err := sandbox.Check(); err != nil {
		t.Skipf("scan --dynamic integration test: %v", err)
	}
	body := dt.GoBinary(t, "../../internal/sandbox/testdata/probe")
	img := dt.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/probe", "stratum"}},
		dt.Run("mkdir /tmp", dt.Dir("tmp")),
		dt.Run("cp probe /usr/bin/probe", dt.Exec("usr/bin/probe", string(body))))
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string]v1.Image{"probe": img})
	stdout, stderr, code := scan(t, "--dynamic", "--dynamic-timeout", "5s", "--format", "json", dir)
	if code != 1 || !strings.Contains(stdout, `"dynamic:stratum-login"`) || !strings.Contains(stdout, "hierarchical+dynamic") {
		t.Errorf("code %d, stderr %q, stdout %s", code, stderr, stdout)
	}
}
