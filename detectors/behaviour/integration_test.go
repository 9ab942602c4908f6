package behaviour_test

import (
	"context"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/behaviour"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/sandbox"
)

// TestScanRunsTheImage scans images made from internal/sandbox's inert
// probe in the real sandbox (root and runc needed).
func TestScanRunsTheImage(t *testing.T) {
	if testing.Short() {
		t.Skip("behaviour integration test: skipped with -short")
	}
	if err := sandbox.Check(); err != nil {
		t.Skipf("behaviour integration test: %v", err)
	}
	body := dt.GoBinary(t, "../../internal/sandbox/testdata/probe")
	tests := []struct {
		mode      string
		want      detectors.Decision
		wantBlame []int
	}{
		{"stratum", detectors.Malicious, []int{1}},
		{"benign", detectors.Clean, nil},
	}
	d := behaviour.New(sandbox.WithWorkDir(t.TempDir()), sandbox.WithTimeout(5*time.Second))
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			img := dt.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/probe", tt.mode}},
				dt.Run("mkdir /tmp", dt.Dir("tmp")),
				dt.Run("cp probe /usr/bin/probe", dt.Exec("usr/bin/probe", string(body))))
			v, err := d.Scan(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != tt.want || len(v.BlamedLayers) != len(tt.wantBlame) || len(tt.wantBlame) > 0 && v.BlamedLayers[0] != tt.wantBlame[0] {
				t.Errorf("decision %s blame %v, want %s %v; findings %+v", v.Decision, v.BlamedLayers, tt.want, tt.wantBlame, v.Findings)
			}
		})
	}
}
