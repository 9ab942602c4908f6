package behaviour_test

import (
	"context"
	"strings"
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

// TestStandInLogsInThroughTheSandbox runs corpus/drupal's stand-in with the
// sample's ENTRYPOINT (a pool given by name) in the sandbox: it resolves the
// name through the sandbox's loopback resolver, connects to the catch-all
// and logs in, and the detector names the layer that added it. The run
// shares a layer store and a NewShared detector, as the experiments do.
func TestStandInLogsInThroughTheSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("behaviour integration test: skipped with -short")
	}
	if err := sandbox.Check(); err != nil {
		t.Skipf("behaviour integration test: %v", err)
	}
	body := dt.GoBinary(t, "../../corpus/drupal/minerd")
	img := dt.Image(t, v1.Config{Entrypoint: []string{"/bin/minerd", "-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "trudly@outlook.com", "-p", "x", "-t", "1"}},
		dt.Run("mkdir /tmp /etc", dt.Dir("tmp"), dt.Dir("etc")),
		dt.Run("cp minerd /bin/minerd", dt.Exec("bin/minerd", string(body))))
	store := sandbox.NewLayerStore(t.TempDir(), 1<<30)
	d := behaviour.NewShared(2, sandbox.WithWorkDir(t.TempDir()), sandbox.WithTimeout(5*time.Second), sandbox.WithLayerStore(store))
	for range 2 { // the second scan is the shared run
		v, err := d.Scan(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		var login bool
		for _, f := range v.Findings {
			login = login || f.Rule == behaviour.RuleStratumLogin && strings.Contains(f.Evidence, "trudly@outlook.com")
		}
		if v.Decision != detectors.Malicious || !login || len(v.BlamedLayers) != 1 || v.BlamedLayers[0] != 1 {
			t.Fatalf("decision %s blame %v login %v; findings %+v info %v", v.Decision, v.BlamedLayers, login, v.Findings, v.Info)
		}
	}
}
