package experiments

import (
	"context"
	"reflect"
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
		name  string
		slice Slice
		want  []string
	}{
		{"default", Slice{}, []string{"digest-image", "hierarchical"}},
		{"hierarchical keeps no opt-in", Slice{Detectors: []string{"hierarchical"}}, []string{"hierarchical"}},
		{"behaviour named", Slice{Detectors: []string{"behaviour", "digest"}}, []string{"digest-image", "behaviour"}},
		{"combined named", Slice{Detectors: []string{"hierarchical+dynamic", "hierarchical"}}, []string{"hierarchical", "hierarchical+dynamic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range tt.slice.detectors(allDetectors(set)) {
				got = append(got, d.Name())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
