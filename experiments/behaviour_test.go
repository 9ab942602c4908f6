package experiments

import (
	"context"
	"reflect"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
)

type namedDetector string

func (n namedDetector) Name() string    { return string(n) }
func (n namedDetector) Version() string { return "0" }
func (n namedDetector) Scan(context.Context, v1.Image) (detectors.Verdict, error) {
	return detectors.Verdict{}, nil
}

// TestOptInDetectorsOnlyWhenNamed: behaviour and hierarchical+dynamic never
// join a default run, nor a run that names "hierarchical".
func TestOptInDetectorsOnlyWhenNamed(t *testing.T) {
	set := &DetectorSet{Detectors: []detectors.Detector{namedDetector("digest-image"), namedDetector("hierarchical")}}
	tests := []struct {
		name    string
		slice   Slice
		dynamic bool
		want    []string
	}{
		{"default", Slice{}, false, []string{"digest-image", "hierarchical"}},
		{"--dynamic adds both", Slice{}, true, []string{"digest-image", "hierarchical", "behaviour", "hierarchical+dynamic"}},
		{"--dynamic with named detectors keeps the names", Slice{Detectors: []string{"hierarchical"}}, true, []string{"hierarchical"}},
		{"hierarchical keeps no opt-in", Slice{Detectors: []string{"hierarchical"}}, false, []string{"hierarchical"}},
		{"behaviour named", Slice{Detectors: []string{"behaviour", "digest"}}, false, []string{"digest-image", "behaviour"}},
		{"combined named", Slice{Detectors: []string{"hierarchical+dynamic", "hierarchical"}}, false, []string{"hierarchical", "hierarchical+dynamic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range tt.slice.detectors(allDetectors(set), tt.dynamic) {
				got = append(got, d.Name())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			// Run checks the sandbox before any build exactly when a
			// sandboxed detector will scan.
			sandboxed := slices.Contains(got, "behaviour") || slices.Contains(got, "hierarchical+dynamic")
			if r := tt.slice.runsSandbox(tt.dynamic); r != sandboxed {
				t.Errorf("runsSandbox = %v, but the detectors %v", r, got)
			}
		})
	}
}

// TestCensusInventoryOptIn: the census scans with the inventory baselines
// only when --detectors names them.
func TestCensusInventoryOptIn(t *testing.T) {
	set := &DetectorSet{Detectors: []detectors.Detector{namedDetector("hierarchical"), namedDetector("inventory"), namedDetector("inventory+clamav")}}
	for _, tt := range []struct {
		name    string
		slice   Slice
		dynamic bool
		want    []string
	}{
		{"default", Slice{}, false, []string{"hierarchical"}},
		{"--dynamic adds the sandbox, not inventory", Slice{}, true, []string{"hierarchical", "behaviour", "hierarchical+dynamic"}},
		{"named", Slice{Detectors: []string{"inventory", "inventory+clamav", "hierarchical"}}, false, []string{"hierarchical", "inventory", "inventory+clamav"}},
	} {
		var got []string
		for _, d := range tt.slice.detectors(censusDetectors(set), tt.dynamic) {
			got = append(got, d.Name())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: census detectors %v, want %v", tt.name, got, tt.want)
		}
	}
}
