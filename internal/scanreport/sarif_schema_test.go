package scanreport_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/strata-sec/strata/detectors/dockerfile"
	"github.com/strata-sec/strata/internal/scanreport"
)

// schemaFile is the SARIF 2.1.0 JSON schema (OASIS SARIF 2.1.0, as
// sarif-2.1.0-rtm.5.json in the MIT-licensed npm package
// @microsoft/jest-sarif 1.0.0-beta.0), committed so the test needs no
// download; schemaSHA256 pins it (testdata/README.md).
const (
	schemaFile   = "sarif-2.1.0-rtm.5.json"
	schemaSHA256 = "2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8"
)

// sarifSchema compiles the committed SARIF 2.1.0 JSON schema
// (STRATA_SARIF_SCHEMA names another copy to validate against).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	p := os.Getenv("STRATA_SARIF_SCHEMA")
	if p == "" {
		p = filepath.Join("testdata", schemaFile)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != schemaSHA256 {
			t.Fatalf("%s changed (sha256 %x, want %s): restore it from @microsoft/jest-sarif 1.0.0-beta.0", p, sum, schemaSHA256)
		}
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("SARIF 2.1.0 schema: %v", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(s *jsonschema.Schema, b []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// dockerfileSARIF is the SARIF log of a pre-build scan of a testdata
// Dockerfile of the dockerfile detector, and the report it renders.
func dockerfileSARIF(t *testing.T, name string) ([]byte, scanreport.Report, string) {
	t.Helper()
	file := "../../detectors/dockerfile/testdata/" + name + "/Dockerfile"
	v, err := dockerfile.New().ScanPath(context.Background(), file, "")
	if err != nil {
		t.Fatal(err)
	}
	rep := scanreport.Report{Schema: scanreport.Schema, Detector: scanreport.DetectorInfo{Name: dockerfile.Name, Version: dockerfile.Version},
		Targets: []scanreport.Target{scanreport.FromDockerfileVerdict(file, filepath.Dir(file), v)}}
	var b bytes.Buffer
	if err := scanreport.WriteSARIF(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), rep, file
}

// TestSARIFSchema validates the image scan's golden SARIF and a pre-build
// scan's SARIF against the SARIF 2.1.0 schema, and checks that broken
// copies fail (the validation can fail).
func TestSARIFSchema(t *testing.T) {
	s := sarifSchema(t)
	image, err := os.ReadFile(filepath.Join("testdata", "scan.golden.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	df, _, _ := dockerfileSARIF(t, "multistage")
	golden, err := os.ReadFile(filepath.Join("testdata", "dockerfile.golden.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		log     []byte
		wantErr bool
	}{
		{"image", image, false},
		{"dockerfile", df, false},
		{"dockerfile golden", golden, false},
		{"image bad level", bytes.Replace(image, []byte(`"level": "error"`), []byte(`"level": "severe"`), 1), true},
		{"dockerfile no version", bytes.Replace(df, []byte(`"version": "2.1.0",`), nil, 1), true},
		{"dockerfile line 0", bytes.Replace(df, []byte(`"startLine": 5`), []byte(`"startLine": 0`), 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr && bytes.Equal(tt.log, image) || tt.wantErr && bytes.Equal(tt.log, df) {
				t.Fatal("the broken copy is not broken: the replacement matched nothing")
			}
			err := validate(s, tt.log)
			if (err != nil) != tt.wantErr {
				t.Errorf("validate: %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestSARIFDockerfileRegions: every result of a pre-build scan points at
// the Dockerfile (relative to %SRCROOT%) with a region at its evidence:
// the file's text at startLine:startColumn begins with the evidence's
// first word (quotes aside), also inside a RUN continued over several
// lines and in indented instructions; evidence that is not in the
// Dockerfile's text (a build-context file's, or composed by the detector)
// points at the instruction's keyword.
func TestSARIFDockerfileRegions(t *testing.T) {
	for _, name := range []string{"multistage", "multiline-run"} {
		t.Run(name, func(t *testing.T) {
			b, rep, file := dockerfileSARIF(t, name)
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(src), "\n")
			var log struct {
				Runs []struct {
					Results []struct {
						RuleID    string `json:"ruleId"`
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct {
									URI       string `json:"uri"`
									URIBaseID string `json:"uriBaseId"`
								} `json:"artifactLocation"`
								Region *struct {
									StartLine   int `json:"startLine"`
									StartColumn int `json:"startColumn"`
								} `json:"region"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(b, &log); err != nil {
				t.Fatal(err)
			}
			findings := rep.Targets[0].ConfigFindings
			if len(log.Runs) != 1 || len(log.Runs[0].Results) != len(findings) || len(findings) == 0 {
				t.Fatalf("want one run with a result per finding (%d), got %+v", len(findings), log)
			}
			for i, r := range log.Runs[0].Results {
				f := findings[i]
				if r.RuleID != f.Rule {
					t.Fatalf("result %d is %s, finding %d is %s: results are not in the findings' order", i, r.RuleID, i, f.Rule)
				}
				pl := r.Locations[0].PhysicalLocation
				if pl.ArtifactLocation.URI != file || pl.ArtifactLocation.URIBaseID != "%SRCROOT%" {
					t.Errorf("%s: artifact %+v, want %s under %%SRCROOT%%", r.RuleID, pl.ArtifactLocation, file)
				}
				if pl.Region == nil || pl.Region.StartLine < 1 || pl.Region.StartLine > len(lines) {
					t.Errorf("%s: region %+v out of the Dockerfile", r.RuleID, pl.Region)
					continue
				}
				line := []rune(lines[pl.Region.StartLine-1])
				if pl.Region.StartColumn < 1 || pl.Region.StartColumn > len(line) {
					t.Errorf("%s: column %d out of line %d %q", r.RuleID, pl.Region.StartColumn, pl.Region.StartLine, string(line))
					continue
				}
				at := strings.NewReplacer(`"`, "", "'", "").Replace(string(line[pl.Region.StartColumn-1:]))
				ev := strings.TrimPrefix(f.Evidence, "discarded stage (not scored): ")
				word := strings.Trim(strings.Fields(ev + " x")[0], `"'`)
				want := strings.Fields(f.Instruction)[0] // the keyword
				if f.Path == file && strings.Contains(strings.NewReplacer(`"`, "", "'", "").Replace(f.Instruction), word) {
					want = word
				}
				if !strings.HasPrefix(strings.ToUpper(at), strings.ToUpper(want)) {
					t.Errorf("%s (%s): %d:%d is %q, want it to begin with %q", r.RuleID, ev, pl.Region.StartLine, pl.Region.StartColumn, at, want)
				}
			}
		})
	}
}
