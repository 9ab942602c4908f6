package layers_test

import (
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/internal/layers"
)

func TestAlign(t *testing.T) {
	e := v1.History{EmptyLayer: true}
	l := func(s string) v1.History { return v1.History{CreatedBy: s} }
	tests := []struct {
		name         string
		history      []v1.History
		n            int
		wantLayers   []int
		wantMismatch bool
		wantLayerOf  map[int]int
		wantEmpty    [][]int // EmptyAfter(k, len(history)) per layer
		wantCreated  []string
	}{
		{name: "buildkit", history: []v1.History{l("a"), e, l("b"), e, e}, n: 2,
			wantLayers: []int{0, 2}, wantLayerOf: map[int]int{0: 0, 1: layers.NoLayer, 2: 1, 4: layers.NoLayer},
			wantEmpty: [][]int{{1}, {3, 4}}, wantCreated: []string{"a", "b"}},
		{name: "leading empty entries", history: []v1.History{e, l("a")}, n: 1,
			wantLayers: []int{1}, wantLayerOf: map[int]int{0: layers.NoLayer, 1: 0}, wantEmpty: [][]int{nil}, wantCreated: []string{"a"}},
		{name: "fewer entries than layers", history: []v1.History{l("a"), e}, n: 3, wantMismatch: true,
			wantLayers: []int{0, layers.NoLayer, layers.NoLayer}, wantLayerOf: map[int]int{0: 0, 1: layers.NoLayer},
			wantEmpty: [][]int{{1}, nil, nil}, wantCreated: []string{"a", "", ""}},
		{name: "more entries than layers: empty_after stops at the next non-empty", history: []v1.History{l("a"), e, l("b"), e}, n: 1,
			wantMismatch: true, wantLayers: []int{0}, wantLayerOf: map[int]int{0: 0, 2: layers.NoLayer},
			wantEmpty: [][]int{{1}}, wantCreated: []string{"a"}},
		{name: "no history", n: 2, wantMismatch: true, wantLayers: []int{layers.NoLayer, layers.NoLayer},
			wantEmpty: [][]int{nil, nil}, wantCreated: []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := layers.Align(tt.history, tt.n)
			if !reflect.DeepEqual(a.Layers, tt.wantLayers) || a.Mismatch() != tt.wantMismatch {
				t.Errorf("layers %v mismatch %v, want %v %v", a.Layers, a.Mismatch(), tt.wantLayers, tt.wantMismatch)
			}
			for h, want := range tt.wantLayerOf {
				if got := a.LayerOf(h); got != want {
					t.Errorf("LayerOf(%d) = %d, want %d", h, got, want)
				}
			}
			for k := range tt.n {
				if got := a.EmptyAfter(k, len(tt.history)); !reflect.DeepEqual(got, tt.wantEmpty[k]) {
					t.Errorf("EmptyAfter(%d) = %v, want %v", k, got, tt.wantEmpty[k])
				}
				if got := a.CreatedBy(k); got != tt.wantCreated[k] {
					t.Errorf("CreatedBy(%d) = %q, want %q", k, got, tt.wantCreated[k])
				}
			}
		})
	}
}
