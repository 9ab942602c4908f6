package mutations

import (
	"errors"
	"slices"
	"testing"
)

// paperTypes are the ten types of experiment 2: Table 4's nine and ours.
var paperTypes = []string{
	"add-dummy-layer", "conditional-layer", "dummy-echo", "dummy-network", "inject-dummy-layer",
	"random-env", "random-fs-change", "random-label", "squash", "variable-workdir",
}

// payloadTypes are experiment 3's payload mutations (payload_*.go).
var payloadTypes = []string{
	"compress-payload", "hide-and-delete", "pad-binary", "pool-env", "pool-raw-ip", "pool-unlisted-domain",
	"rename-binary", "split-payload", "timestamp-epoch", "typosquat-label", "wrapper-script",
}

func TestAllSortedAndComplete(t *testing.T) {
	var names []string
	for _, m := range All() {
		names = append(names, m.Name())
		if m.Version() == "" || m.Description() == "" {
			t.Errorf("%s: empty version or description", m.Name())
		}
		if m.PaperRef() == "" && m.Name() != "random-label" {
			t.Errorf("%s: no paper reference", m.Name())
		}
		if KindOf(m) == "" {
			t.Errorf("%s: neither a Dockerfile, an image nor a payload mutation", m.Name())
		}
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(paperTypes), payloadTypes...)))
	if !slices.Equal(names, want) {
		t.Errorf("All() = %v, want %v", names, want)
	}
	var layer, payload []string
	for _, m := range OfKind(LayerKinds...) {
		layer = append(layer, m.Name())
	}
	for _, m := range OfKind(KindPayload) {
		payload = append(payload, m.Name())
	}
	if !slices.Equal(layer, paperTypes) {
		t.Errorf("OfKind(LayerKinds...) = %v, want experiment 2's %v", layer, paperTypes)
	}
	if !slices.Equal(payload, payloadTypes) {
		t.Errorf("OfKind(payload) = %v, want %v", payload, payloadTypes)
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		want Kind
	}{
		{"dummy-echo", KindDockerfile},
		{"add-dummy-layer", KindDockerfile},
		{"variable-workdir", KindDockerfile},
		{"squash", KindImage},
		{"pad-binary", KindPayload},
		{"timestamp-epoch", KindPayload},
	}
	for _, tt := range tests {
		m, err := Get(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := KindOf(m); got != tt.want {
			t.Errorf("KindOf(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := KindOf(info{name: "none"}); got != "" {
		t.Errorf("KindOf(a type of no kind) = %q, want \"\"", got)
	}
}

func TestGet(t *testing.T) {
	tests := []struct {
		name    string
		wantErr error
	}{
		{name: "dummy-echo"},
		{name: "squash"},
		{name: "no-such-type", wantErr: ErrUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Get(tt.name)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get(%q) error = %v, want %v", tt.name, err, tt.wantErr)
			}
			if err == nil && m.Name() != tt.name {
				t.Errorf("Get(%q).Name() = %q", tt.name, m.Name())
			}
		})
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Register of a duplicate name did not panic")
		}
	}()
	Register(dummyEcho{info{name: "dummy-echo", version: "1"}})
}

func TestRegisterNeitherKindPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Register of a type with no Mutate method did not panic")
		}
	}()
	Register(info{name: "not-a-mutation"})
}

func TestNewRand(t *testing.T) {
	draw := func(seed int64, name string) [4]uint64 {
		r := NewRand(seed, name)
		return [4]uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
	}
	if a, b := draw(1, "dummy-echo"), draw(1, "dummy-echo"); a != b {
		t.Error("same (seed, name) gave different streams")
	}
	if draw(1, "dummy-echo") == draw(2, "dummy-echo") {
		t.Error("different seeds gave the same stream")
	}
	if draw(1, "dummy-echo") == draw(1, "random-fs-change") {
		t.Error("different types share a stream")
	}
}
