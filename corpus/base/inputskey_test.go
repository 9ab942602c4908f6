package base

import "testing"

// TestInputsKey pins InputsKey: stored images are found again by this key,
// so a change to it silently rebuilds every cached base and variant.
func TestInputsKey(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{name: "no parts", parts: nil, want: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{name: "one part", parts: []string{"a"}, want: "sha256:ffe9aaeaa2a2d5048174df0b80599ef0197ec024c4b051bc9860cff58ef7f9f3"},
		{name: "two parts", parts: []string{"ab", "c"}, want: "sha256:629c2f14f654f026086f2aefe1855533d0897f49df86a19073be17b237361b09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InputsKey(tt.parts...); got != tt.want {
				t.Errorf("InputsKey(%q) = %s, want %s", tt.parts, got, tt.want)
			}
		})
	}
	// The separator keeps part boundaries: moving a byte between parts
	// changes the key.
	if InputsKey("ab", "c") == InputsKey("a", "bc") {
		t.Error(`InputsKey("ab", "c") == InputsKey("a", "bc"): parts are not separated`)
	}
}
