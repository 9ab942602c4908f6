package scanreport

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/imageref"
)

// TestScanTargetIssues scans images the walker has issues with and checks
// the decision and the per-layer reasons the report derives.
func TestScanTargetIssues(t *testing.T) {
	// Incompressible content, so half the gzip stream holds the first
	// entry whole and ends inside the second.
	noise := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	tarball, err := dt.Tar(dt.Text("etc/os-release", "ID=debian\n"), dt.Text("srv/data.bin", string(noise)))
	if err != nil {
		t.Fatal(err)
	}
	gz := dt.Gzip(t, tarball, 6)
	deep := strings.Repeat("d/", 300) + "f"
	tests := []struct {
		name      string
		img       v1.Image
		want      string
		wantLayer int
		wantKind  string
		wantClass string
	}{
		{name: "truncated layer", img: dt.RawImage(t, v1.ConfigFile{}, dt.Blob{Data: gz[:len(gz)/2], DiffID: dt.Hash(tarball)}),
			want: "invalid", wantLayer: 0, wantKind: "layer-truncated", wantClass: ClassIntegrity},
		{name: "path escape", img: dt.Image(t, v1.Config{},
			dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
			dt.Step{CreatedBy: "ADD x.tar /", Files: []dt.File{dt.Text("../../etc/cron.d/x", "* * * * * root true\n")}}),
			want: "invalid", wantLayer: 1, wantKind: "path-escape", wantClass: ClassIntegrity},
		{name: "path depth limit", img: dt.Image(t, v1.Config{},
			dt.Step{CreatedBy: "ADD deep.tar /", Files: []dt.File{dt.Text(deep, "x\n")}}),
			want: "incomplete", wantLayer: 0, wantKind: "path-limit", wantClass: ClassLimit},
	}
	det := hierarchical.New(hierarchical.WithLayerCache(nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ScanTarget(context.Background(), det, imageref.Target{Name: tt.name, Image: tt.img})
			if err != nil {
				t.Fatal(err)
			}
			if st.Decision != tt.want {
				t.Errorf("decision %s, want %s", st.Decision, tt.want)
			}
			if tt.wantLayer >= len(st.Layers) {
				t.Fatalf("%d layers", len(st.Layers))
			}
			found := false
			for _, is := range st.Layers[tt.wantLayer].Issues {
				found = found || (is.Kind == tt.wantKind && is.Class == tt.wantClass && is.Detail != "")
			}
			if !found {
				t.Errorf("layer %d issues %+v lack kind %s class %s", tt.wantLayer, st.Layers[tt.wantLayer].Issues, tt.wantKind, tt.wantClass)
			}
		})
	}
}
