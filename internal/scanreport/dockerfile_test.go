package scanreport

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/strata-sec/strata/detectors/dockerfile"
)

// DockerfileGoldenPath is the pre-build scan target of the golden files
// dockerfile.golden.*, named relative to the repository root as
// `strata scan --dockerfile` run there names it (cmd/strata compares its
// output with the same files).
const DockerfileGoldenPath = "detectors/dockerfile/testdata/multistage"

func dockerfileReport(t *testing.T) Report {
	t.Helper()
	src, err := os.ReadFile("../../" + DockerfileGoldenPath + "/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	v, err := dockerfile.New().Scan(context.Background(), dockerfile.Input{
		Dockerfile: src, Path: DockerfileGoldenPath + "/Dockerfile",
		Context: os.DirFS("../../" + DockerfileGoldenPath), ContextPath: DockerfileGoldenPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return Report{Schema: Schema, Detector: DetectorInfo{Name: dockerfile.Name, Version: dockerfile.Version},
		Targets: []Target{FromDockerfileVerdict(DockerfileGoldenPath+"/Dockerfile", DockerfileGoldenPath, v)}}
}

// TestDockerfileGolden: table, JSON and SARIF of a pre-build scan of a
// multi-stage Dockerfile with a build context.
func TestDockerfileGolden(t *testing.T) {
	rep := dockerfileReport(t)
	for _, tt := range []struct{ format, golden string }{
		{"table", "dockerfile.golden.txt"},
		{"json", "dockerfile.golden.json"},
		{"sarif", "dockerfile.golden.sarif"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, rep, tt.format); err != nil {
				t.Fatal(err)
			}
			if tt.format == "sarif" {
				checkSARIF(t, b.Bytes())
			}
			checkGolden(t, tt.golden, b.Bytes())
		})
	}
}
