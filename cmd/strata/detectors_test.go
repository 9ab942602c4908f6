package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/baselines/inventory"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/experiments"
)

func TestDetectorsListing(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"detectors"}, &out, &errb); err != nil {
		t.Fatalf("strata detectors: %v (%s)", err, errb.String())
	}
	tests := []struct {
		name, detector, models string
	}{
		{name: "inventory", detector: inventory.Name, models: "Clair / Trivy / Anchore"},
		{name: "inventory with ClamAV", detector: inventory.ClamAVName, models: "Anchore (with its ClamAV"},
		{name: "multiengine", detector: "multiengine", models: "VirusTotal"},
		{name: "dockerfile", detector: "dockerfile", models: "DAVS"},
		{name: "behaviour", detector: "behaviour", models: "behaviour analysis"},
	}
	lines := strings.Split(out.String(), "\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, tt.detector+" ") })
			if i < 0 {
				t.Fatalf("no line for %s in\n%s", tt.detector, out.String())
			}
			if !strings.Contains(lines[i], tt.models) {
				t.Errorf("line %q does not name %q", lines[i], tt.models)
			}
		})
	}
	cat := experiments.Catalog()
	names := make([]string, len(cat))
	for i, d := range cat {
		names[i] = d.Name
	}
	if !slices.IsSorted(names) {
		t.Errorf("catalog not sorted by name: %v", names)
	}
	// The combined detector's listed version is the one its records carry.
	combined := hierarchical.New(hierarchical.WithDynamic(func(context.Context, v1.Image) ([]detectors.Finding, map[string]string, error) {
		return nil, nil, nil
	}, behaviour.Version))
	if i := slices.IndexFunc(cat, func(d experiments.DetectorDoc) bool { return d.Name == combined.Name() }); i < 0 || cat[i].Version != combined.Version() {
		t.Errorf("catalog lists %s at %+v, the detector reports %s", combined.Name(), cat[max(i, 0)], combined.Version())
	}
}
