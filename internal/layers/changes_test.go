package layers_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestLayerChanges pins what Result exposes per layer (LayerInfo.Changes):
// the versions each layer added and the lower versions it removed, with the
// whiteouts and opaque directories that did it, so a per-layer consumer
// needs no overlay of its own. Golden: testdata/changes.golden.
func TestLayerChanges(t *testing.T) {
	img := dt.Image(t, v1.Config{},
		dt.Run("one", dt.Dir("opt"), dt.Text("opt/a", "a"), dt.Text("opt/d/x", "x"), dt.Exec("bin/m", "v1"),
			dt.Symlink("bin/l", "/bin/m"), dt.Text("tmp/t/f", "f")),
		dt.Run("two", dt.Whiteout("opt/a"), dt.Opaque("opt/d"), dt.Exec("bin/m", "v2"), dt.Text("opt/d/y", "y"),
			dt.Whiteout("never/was")),
		dt.Run("three", dt.Text("tmp/t", "file over dir"), dt.Text("opt/a", "again")),
	)
	res, err := layers.Walk(context.Background(), img, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range res.Layers {
		c := l.Changes
		fmt.Fprintf(&b, "layer %d (%s)\n", l.Index, l.CreatedBy)
		for _, e := range c.Added {
			fmt.Fprintf(&b, "  + %s %s replaced-by=%d hidden=%v removed-by=%d\n", e.Type, e.Path, e.ReplacedBy, e.Hidden, e.RemovedBy)
		}
		for _, e := range c.Removed {
			fmt.Fprintf(&b, "  - %s (layer %d)\n", e.Path, e.Layer)
		}
		fmt.Fprintf(&b, "  whiteouts %q opaque %q\n", c.Whiteouts, c.Opaque)
	}
	golden := filepath.Join("testdata", "changes.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/layers -run TestLayerChanges -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("changes differ from %s (rerun with -update if intended):\n%s", golden, b.String())
	}
}
