package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/baselines/inventory"
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
}
