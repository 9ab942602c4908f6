package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanDockerfile runs `strata scan --dockerfile` from the repository
// root: its output is scanreport's golden files, its exit codes those of
// image scans.
func TestScanDockerfile(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	const df = "detectors/dockerfile/testdata/multistage/Dockerfile"
	golden := func(ext string) string {
		b, err := os.ReadFile(filepath.Join("internal", "scanreport", "testdata", "dockerfile.golden."+ext))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // golden extension, or "" for no check
		wantErr  string
	}{
		{"table", []string{"--dockerfile", df}, 1, "txt", "is malicious"},
		{"json", []string{"--dockerfile", df, "--format", "json"}, 1, "json", ""},
		{"sarif", []string{"--dockerfile", df, "--format", "sarif", "--context", filepath.Dir(df)}, 1, "sarif", ""},
		{"fail-on never", []string{"--dockerfile", df, "--fail-on", "never", "--quiet"}, 0, "", ""},
		{"clean", []string{"--dockerfile", "detectors/dockerfile/testdata/benign-node/Dockerfile"}, 0, "", ""},
		{"incomplete", []string{"--dockerfile", "detectors/dockerfile/testdata/missing-source/Dockerfile"}, 3, "", "incomplete"},
		{"context without dockerfile", []string{"--context", "."}, 2, "", "--context needs --dockerfile"},
		{"image and dockerfile", []string{"--dockerfile", df, "some:image"}, 2, "", "drop the image reference"},
		{"missing file", []string{"--dockerfile", "no/such/Dockerfile"}, 2, "", "read Dockerfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := scan(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %s)", code, tt.wantCode, errs)
			}
			if tt.wantOut != "" && out != golden(tt.wantOut) {
				t.Errorf("stdout differs from internal/scanreport/testdata/dockerfile.golden.%s (go test ./internal/scanreport/ -update rewrites it):\n%s", tt.wantOut, out)
			}
			if !strings.Contains(errs, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errs, tt.wantErr)
			}
		})
	}
}
