package hierarchical_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestDynamicSignal: off by default (name, verdict unchanged); on, the
// run's findings join the static ones under a prefixed rule and decide.
func TestDynamicSignal(t *testing.T) {
	img := dt.Image(t, v1.Config{Entrypoint: []string{"/app/run"}},
		dt.Run("cp run /app/run", dt.Exec("app/run", "#!/bin/sh\nexec ./payload\n")))
	login := detectors.Finding{Category: detectors.CategoryBehavior, Rule: "stratum-login", Weight: 10,
		Evidence: "login to 203.0.113.7:3333 user=4TESTWALLET", Layer: 0, Path: "/app/payload"}
	static, err := hierarchical.New().Scan(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		dyn      hierarchical.DynamicFunc
		wantName string
		want     detectors.Decision
		wantErr  bool
	}{
		{"off", nil, "hierarchical", static.Decision, false},
		{"quiet run", func(context.Context, v1.Image) ([]detectors.Finding, map[string]string, error) {
			return nil, map[string]string{"sandbox_seconds": "0.40"}, nil
		}, "hierarchical+dynamic", static.Decision, false},
		{"stratum login", func(context.Context, v1.Image) ([]detectors.Finding, map[string]string, error) {
			return []detectors.Finding{login}, nil, nil
		}, "hierarchical+dynamic", detectors.Malicious, false},
		{"sandbox fails", func(context.Context, v1.Image) ([]detectors.Finding, map[string]string, error) {
			return nil, nil, errors.New(`runc create: exec: "/app/run": permission denied`)
		}, "hierarchical+dynamic", detectors.Incomplete, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []hierarchical.Option
			if tt.dyn != nil {
				opts = append(opts, hierarchical.WithDynamic(tt.dyn, "9.9.9"))
			}
			d := hierarchical.New(opts...)
			wantVersion := hierarchical.Version
			if tt.dyn != nil {
				wantVersion = hierarchical.DynamicVersion("9.9.9")
			}
			if d.Name() != tt.wantName || d.Version() != wantVersion {
				t.Errorf("name %s version %s", d.Name(), d.Version())
			}
			v, err := d.Scan(context.Background(), img)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if v.Decision != tt.want {
				t.Errorf("decision %s, want %s (score %g)", v.Decision, tt.want, v.Score)
			}
			if tt.dyn == nil && !reflect.DeepEqual(v, static) {
				t.Errorf("default verdict changed:\n%+v\n%+v", v, static)
			}
			if tt.name == "stratum login" {
				var found bool
				for _, f := range v.Findings {
					found = found || f.Rule == hierarchical.DynamicRulePrefix+"stratum-login" && f.DiffID != ""
				}
				if !found || len(v.BlamedLayers) != 1 || v.BlamedLayers[0] != 0 {
					t.Errorf("dynamic finding missing or not blamed: %+v blame %v", v.Findings, v.BlamedLayers)
				}
			}
			if tt.name == "quiet run" && v.Info["dynamic_sandbox_seconds"] != "0.40" {
				t.Errorf("info %v", v.Info)
			}
			if tt.name == "sandbox fails" && (!notRun(v) || v.Info["dynamic_error"] == "") {
				t.Errorf("a failed run is not reported: findings %+v info %v", v.Findings, v.Info)
			}
		})
	}
}

// notRun reports whether v has the dynamic-not-run finding.
func notRun(v detectors.Verdict) bool {
	return slices.ContainsFunc(v.Findings, hierarchical.IsDynamicNotRun)
}

// TestDynamicSignalFailure: a run that fails for the image keeps the
// static verdict, so static evidence over the threshold stays malicious
// and nothing under it reads clean; a cancelled scan fails.
func TestDynamicSignalFailure(t *testing.T) {
	miner := dt.Image(t, v1.Config{Entrypoint: []string{"/usr/local/bin/xmrig", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", "--donate-level", "1"}},
		dt.Run("cp xmrig /usr/local/bin/xmrig", dt.Exec("usr/local/bin/xmrig", "#!/bin/sh\necho 'XMRig 6.21.0 randomx stratum+tcp:// --donate-level'\n")))
	static, err := hierarchical.New().Scan(context.Background(), miner)
	if err != nil {
		t.Fatal(err)
	}
	if static.Decision != detectors.Malicious {
		t.Fatalf("static verdict %s (score %g), want malicious for this test to mean anything", static.Decision, static.Score)
	}
	failing := func(context.Context, v1.Image) ([]detectors.Finding, map[string]string, error) {
		return nil, nil, errors.New("container did not stop within 10s of SIGKILL")
	}
	d := hierarchical.New(hierarchical.WithDynamic(failing, "9.9.9"))
	v, err := d.Scan(context.Background(), miner)
	if err != nil {
		t.Fatal(err)
	}
	if v.Decision != detectors.Malicious || v.Score != static.Score || !notRun(v) {
		t.Errorf("failed run: %s score %g (static %g), not-run finding %v; want the static malicious verdict with the failure reported", v.Decision, v.Score, static.Score, notRun(v))
	}
	// A deadline of the sandbox's own (an HTTP client's timeout reports
	// itself as context.DeadlineExceeded) is a failed run, not a stopped
	// scan: the scan's context is alive.
	ownTimeout := func(context.Context, v1.Image) ([]detectors.Finding, map[string]string, error) {
		return nil, nil, fmt.Errorf("fetch layer: %w", context.DeadlineExceeded)
	}
	v, err = hierarchical.New(hierarchical.WithDynamic(ownTimeout, "9.9.9")).Scan(context.Background(), miner)
	if err != nil || v.Decision != detectors.Malicious || !notRun(v) {
		t.Errorf("sandbox's own deadline: err %v, decision %s, not-run %v; want the static verdict with the failure reported", err, v.Decision, notRun(v))
	}
	// Cancelled while the sandbox runs (the walk before it has finished).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := func(ctx context.Context, _ v1.Image) ([]detectors.Finding, map[string]string, error) {
		cancel()
		return nil, nil, ctx.Err()
	}
	if _, err := hierarchical.New(hierarchical.WithDynamic(cancelled, "9.9.9")).Scan(ctx, miner); err == nil {
		t.Error("a cancelled scan returned a verdict")
	}
}
