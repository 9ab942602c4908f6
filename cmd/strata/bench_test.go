package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchFlags covers the flag checks; the harness is tested in
// experiments/bench.
func TestBenchFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no image", args: nil, wantErr: "name at least one image"},
		{name: "count", args: []string{"--count", "0", "x"}, wantErr: "--count must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), append([]string{"bench"}, tt.args...), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != 2 {
				t.Errorf("err = %v (exit %d), want %q and exit 2", err, exitCode(err), tt.wantErr)
			}
		})
	}
}
