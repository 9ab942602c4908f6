package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestScanSARIFGolden pins the whole SARIF log of the miner image:
// go test ./cmd/strata/ -run TestScanSARIFGolden -update
// (validated by hand with Microsoft's SARIF Multitool; see README.md).
func TestScanSARIFGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string]v1.Image{"miner": minerImage(t)})
	out, errOut, code := scan(t, "--format", "sarif", dir+":miner")
	if code != 1 {
		t.Fatalf("exit code %d, want 1: %s", code, errOut)
	}
	checkSARIF(t, []byte(out))
	// The image name is the layout path: absolute in properties and logical
	// locations, without its leading "/" in artifact URIs.
	got := strings.ReplaceAll(out, "oci/"+strings.TrimPrefix(filepath.ToSlash(dir), "/"), "oci/LAYOUT")
	got = strings.ReplaceAll(got, dir, "LAYOUT")
	golden := filepath.Join("testdata", "scan.golden.sarif")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/strata/ -run TestScanSARIFGolden -update)", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("SARIF differs from %s (a deliberate change: rerun with -update and review the diff):\n%s", golden, got)
	}
	for _, w := range []string{
		`"uri": "oci/LAYOUT:miner/layers/1-`, `/usr/bin/xmrig"`,
		`"uri": "oci/LAYOUT:miner/config/Entrypoint"`,
		`"fullyQualifiedName": "LAYOUT:miner@sha256:`, `"kind": "module"`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("SARIF lacks %s", w)
		}
	}
}

// TestScanSARIFReport covers what the miner image does not have: not-scanned
// and hidden findings, a rule outside the table, two targets.
func TestScanSARIFReport(t *testing.T) {
	removedBy := 2
	layer := func(i int, diff string, fs ...scanFinding) scanLayer {
		return scanLayer{Index: i, DiffID: diff, CreatedBy: "RUN make", Findings: fs}
	}
	rep := scanReport{Schema: ScanSchema, Detector: scanDetector{Name: hierarchical.Name, Version: hierarchical.Version}, Targets: []scanTarget{
		{Name: "./img.tar:app:1", Platform: "linux/amd64", ManifestDigest: "sha256:aaaa", Decision: "incomplete", Score: 3, Threshold: 10, BlamedLayers: []int{},
			Layers: []scanLayer{
				layer(0, "sha256:0123456789abcdef0000", scanFinding{Rule: hierarchical.RuleNotScanned, Category: "not-scanned", Path: "opt/big file.bin", Evidence: "file larger than 64 MiB"}),
				layer(1, "sha256:fedcba9876543210ffff",
					scanFinding{Rule: hierarchical.RuleMinerBinary, Category: "behavior", Weight: 6, Path: "../../etc/xmrig", Evidence: "xmrig", Hidden: true, RemovedBy: &removedBy},
					scanFinding{Rule: "future-rule", Category: "behavior", Weight: 1, Evidence: "new"}),
			},
			ConfigFindings: []scanFinding{{Rule: hierarchical.RuleRawIPDownload, Category: "domain-ip", Weight: 2, Path: "history:3", Evidence: "wget http://203.0.113.4/x"}}},
		{Name: "./img.tar:app:1", Platform: "linux/arm64", ManifestDigest: "sha256:bbbb", Decision: "clean", Threshold: 10, BlamedLayers: []int{}, Layers: []scanLayer{}, ConfigFindings: []scanFinding{}},
	}}
	var buf bytes.Buffer
	if err := writeScanSARIF(&buf, rep); err != nil {
		t.Fatal(err)
	}
	checkSARIF(t, buf.Bytes())
	var again bytes.Buffer
	if err := writeScanSARIF(&again, rep); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("output not deterministic (err %v)", err)
	}

	log := buildSARIF(rep, hierarchical.Rules())
	run := log.Runs[0]
	if n := len(run.Results); n != 4 {
		t.Fatalf("%d results, want 4", n)
	}
	wantURIs := []string{
		"oci/img.tar:app:1/layers/0-0123456789ab/opt/big%20file.bin",
		"oci/img.tar:app:1/layers/1-fedcba987654/%2E%2E/%2E%2E/etc/xmrig",
		"oci/img.tar:app:1/layers/1-fedcba987654",
		"oci/img.tar:app:1/config/history/3",
	}
	for i, r := range run.Results {
		if got := r.Locations[0].PhysicalLocation.ArtifactLocation.URI; got != wantURIs[i] {
			t.Errorf("result %d uri = %q, want %q", i, got, wantURIs[i])
		}
	}
	ns := run.Results[0]
	if ns.Level != "warning" || !ns.Properties.NotScanned || !strings.HasPrefix(ns.Message.Text, "not scanned (not-scanned): file larger than 64 MiB") {
		t.Errorf("not-scanned result = %+v", ns)
	}
	if h := run.Results[1]; h.Level != "error" || !h.Properties.Hidden || h.Properties.RemovedBy == nil || *h.Properties.RemovedBy != 2 ||
		!strings.Contains(h.Message.Text, "deleted by layer 2") || h.Locations[0].LogicalLocations[0].FullyQualifiedName != "./img.tar:app:1@sha256:aaaa/layer/1" {
		t.Errorf("hidden result = %+v", h)
	}
	if c := run.Results[3]; c.Properties.Layer != -1 || c.Locations[0].LogicalLocations[0].Name != "config" {
		t.Errorf("config result = %+v", c)
	}
	rules := run.Tool.Driver.Rules
	if last := rules[len(rules)-1]; last.ID != "future-rule" || len(rules) != len(hierarchical.Rules())+1 {
		t.Errorf("unknown rule not appended: %d rules, last %q", len(rules), last.ID)
	}
	notes := run.Invocations[0].ToolExecutionNotifications
	if len(notes) != 1 || notes[0].Level != "warning" || !strings.Contains(notes[0].Message.Text, "(linux/amd64): 1 finding(s)") {
		t.Errorf("notifications = %+v", notes)
	}
	if tp := run.Properties.Targets; len(tp) != 2 || tp[0].Decision != "incomplete" || tp[1].Platform != "linux/arm64" {
		t.Errorf("run targets = %+v", tp)
	}
	// The fingerprint ignores image name and layer index.
	moved := rep
	moved.Targets = append([]scanTarget(nil), rep.Targets...)
	moved.Targets[0].Name = "registry.example/app:2"
	moved.Targets[0].Layers = []scanLayer{{Index: 0, DiffID: "sha256:base", Findings: []scanFinding{}}}
	for _, l := range rep.Targets[0].Layers {
		l.Index++
		moved.Targets[0].Layers = append(moved.Targets[0].Layers, l)
	}
	r2 := buildSARIF(moved, hierarchical.Rules()).Runs[0].Results
	if a, b := run.Results[1].PartialFingerprints[sarifFingerprintKey], r2[1].PartialFingerprints[sarifFingerprintKey]; a == "" || a != b {
		t.Errorf("fingerprint changed with name/index: %q vs %q", a, b)
	}
}

// checkSARIF checks the SARIF 2.1.0 requirements consumers rely on.
func checkSARIF(t *testing.T, data []byte) {
	t.Helper()
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID                   string `json:"id"`
						ShortDescription     struct{ Text string }
						DefaultConfiguration struct{ Level string }
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful *bool `json:"executionSuccessful"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string  `json:"ruleId"`
				RuleIndex *int    `json:"ruleIndex"`
				Level     string  `json:"level"`
				Kind      *string `json:"kind"`
				Message   struct {
					Text *string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation *struct {
							URI *string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif") || !strings.Contains(log.Schema, "2.1.0") {
		t.Errorf("version %q, $schema %q", log.Version, log.Schema)
	}
	if len(log.Runs) == 0 {
		t.Fatal("no runs")
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	for ri, run := range log.Runs {
		d := run.Tool.Driver
		if d.Name == "" {
			t.Errorf("run %d: no tool.driver.name", ri)
		}
		if len(run.Invocations) == 0 || run.Invocations[0].ExecutionSuccessful == nil {
			t.Errorf("run %d: no invocations[0].executionSuccessful", ri)
		}
		ids := map[string]int{}
		for i, r := range d.Rules {
			if r.ID == "" || r.ShortDescription.Text == "" || !levels[r.DefaultConfiguration.Level] {
				t.Errorf("run %d rule %d: %+v", ri, i, r)
			}
			if _, dup := ids[r.ID]; dup {
				t.Errorf("run %d: duplicate rule %q", ri, r.ID)
			}
			ids[r.ID] = i
		}
		for i, res := range run.Results {
			if res.Message.Text == nil || *res.Message.Text == "" {
				t.Errorf("run %d result %d: no message.text", ri, i)
			}
			idx, ok := ids[res.RuleID]
			if !ok {
				t.Errorf("run %d result %d: ruleId %q not in tool.driver.rules", ri, i, res.RuleID)
			} else if res.RuleIndex == nil || *res.RuleIndex != idx {
				t.Errorf("run %d result %d: ruleIndex %v, rule %q is at %d", ri, i, res.RuleIndex, res.RuleID, idx)
			}
			if !levels[res.Level] {
				t.Errorf("run %d result %d: level %q", ri, i, res.Level)
			}
			// SARIF 3.27.10: a level other than none requires kind fail.
			if res.Kind != nil && *res.Kind != "fail" && res.Level != "none" {
				t.Errorf("run %d result %d: kind %q with level %q", ri, i, *res.Kind, res.Level)
			}
			if len(res.Locations) == 0 {
				t.Errorf("run %d result %d: no locations (code scanning rejects that)", ri, i)
			}
			for _, l := range res.Locations {
				if l.PhysicalLocation == nil || l.PhysicalLocation.ArtifactLocation == nil || l.PhysicalLocation.ArtifactLocation.URI == nil || *l.PhysicalLocation.ArtifactLocation.URI == "" {
					t.Errorf("run %d result %d: location without physicalLocation.artifactLocation.uri", ri, i)
					continue
				}
				if u := *l.PhysicalLocation.ArtifactLocation.URI; strings.Contains(strings.SplitN(u, "/", 2)[0], ":") || strings.ContainsAny(u, " \\") {
					t.Errorf("run %d result %d: uri %q is not a relative URI reference", ri, i, u)
				}
			}
			if res.PartialFingerprints[sarifFingerprintKey] == "" {
				t.Errorf("run %d result %d: no partialFingerprints[%s]", ri, i, sarifFingerprintKey)
			}
		}
	}
}
