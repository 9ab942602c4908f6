package scanreport

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

func TestScanJSONGolden(t *testing.T) {
	rep := minerReport(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	if back.Schema != Schema || len(back.Targets) != 1 || back.Targets[0].Decision != "malicious" || back.Targets[0].Layers[1].CreatedBy != minerCreatedBy {
		t.Fatalf("report = %+v", back)
	}
	checkGolden(t, "scan.golden.json", buf.Bytes())
}

// hostile holds what an attacker can put in a path, a history entry or an
// ENTRYPOINT: a screen clear, a cursor move, an OSC title and hyperlink, a
// C1 CSI, DEL, a bidi override, a NUL and a byte that is not UTF-8.
const hostile = "evil\x1b[2J\x1b[1;1H\x1b]0;pwned\x07\x1b]8;;http://192.0.2.1/\x1b\\link\u009b31m\x7f\u202egnp.exe\x00\xff\nCLEAN"

// issueReport is a report with a clean, an incomplete and an invalid
// target; the invalid one carries hostile strings everywhere.
func issueReport() Report {
	rb := 2
	return Report{Schema: Schema, Detector: DetectorInfo{Name: hierarchical.Name, Version: hierarchical.Version}, Targets: []Target{
		{Name: "LAYOUT:clean", Platform: "linux/amd64", ManifestDigest: "sha256:aaaa", Decision: "clean", Threshold: 10,
			Layers: []Layer{{Index: 0, DiffID: "sha256:0123456789abcdef", Size: 1234, CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "}}},
		{Name: "LAYOUT:big", ManifestDigest: "sha256:bbbb", Decision: "incomplete", Score: 2, Threshold: 10,
			Layers: []Layer{{Index: 0, DiffID: "sha256:1111", Size: 5_000_000, CreatedBy: "RUN dd if=/dev/zero of=/big",
				Findings: []Finding{{Rule: "not-scanned", Category: "not-scanned", Path: "big", Evidence: "file-bytes-limit: only the first 64 MiB were read"}},
				Issues:   []Issue{{Kind: "file-bytes-limit", Class: ClassLimit, Rule: "not-scanned", Path: "big", Detail: "only the first 64 MiB were read"}}}}},
		{Name: "LAYOUT:" + hostile, Platform: "linux/amd64", ManifestDigest: "sha256:cccc", Decision: "invalid", Score: 4, Threshold: 10, BlamedLayers: []int{1},
			Layers: []Layer{
				{Index: 0, DiffID: "sha256:2222", Size: 10, CreatedBy: "RUN echo " + hostile,
					Findings: []Finding{{Rule: "not-scanned", Category: "not-scanned", Path: "../" + hostile, Evidence: "path-escape: tar entry escapes the root; skipped", Integrity: true}},
					Issues:   []Issue{{Kind: "path-escape", Class: ClassIntegrity, Rule: "not-scanned", Path: "../" + hostile, Detail: "tar entry escapes the root; skipped"}}},
				{Index: 1, DiffID: "sha256:3333", Size: 10, CreatedBy: hostile, Blamed: true,
					Findings: []Finding{{Rule: "miner-binary", Category: "behavior", Weight: 4, Path: hostile, Evidence: hostile, Hidden: true, RemovedBy: &rb}}},
			},
			ConfigFindings: []Finding{{Rule: "entrypoint-miner", Category: "behavior", Weight: 6, Path: "config:Entrypoint", Evidence: hostile}}},
	}}
}

func TestWriteTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, issueReport()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checkGolden(t, "table.golden.txt", buf.Bytes())
	for _, want := range []string{
		"decision   INVALID", "x INTEGRITY path-escape  ../evil\\x1b[2J", "? NOT SCANNED file-bytes-limit  big",
		"3 targets: 0 malicious, 1 invalid, 1 incomplete, 1 clean",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !utf8.ValidString(out) {
		t.Error("table output is not valid UTF-8")
	}
	for i, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e {
			t.Fatalf("raw control character %U at byte %d reaches the terminal:\n%q", r, i, out)
		}
	}
	// The hostile name's newline must not start a line of its own.
	if strings.Contains(out, "\nCLEAN") {
		t.Error("a newline from the image reached the table")
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "usr/bin/app -o x", want: "usr/bin/app -o x"},
		{name: "utf-8 kept", in: "café…日本", want: "café…日本"},
		{name: "CSI sequence", in: "a\x1b[31mred", want: `a\x1b[31mred`},
		{name: "OSC with BEL", in: "\x1b]0;title\x07", want: `\x1b]0;title\x07`},
		{name: "C1 CSI", in: "x\u009b2J", want: `x\u009b2J`},
		{name: "DEL and NUL", in: "\x7f\x00", want: `\x7f\x00`},
		{name: "newline tab CR", in: "a\nb\tc\rd", want: `a\x0ab\x09c\x0dd`},
		{name: "bidi override", in: "\u202egnp.exe", want: `\u202egnp.exe`},
		{name: "invalid UTF-8", in: "a\xffb\xc3", want: `a\xffb\xc3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			if got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Sanitize(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestIssueOf(t *testing.T) {
	tests := []struct {
		name   string
		f      Finding
		want   Issue
		wantOK bool
	}{
		{name: "evidence", f: Finding{Rule: "miner-binary", Category: "behavior", Evidence: "layer-truncated: x"}},
		{name: "walker limit", f: Finding{Rule: "not-scanned", Category: "not-scanned", Path: "a", Evidence: "file-bytes-limit: first 64 MiB"},
			want: Issue{Kind: "file-bytes-limit", Class: ClassLimit, Rule: "not-scanned", Path: "a", Detail: "first 64 MiB"}, wantOK: true},
		{name: "truncated layer", f: Finding{Rule: "not-scanned", Category: "not-scanned", Evidence: "layer-truncated: unexpected EOF", Integrity: true},
			want: Issue{Kind: "layer-truncated", Class: ClassIntegrity, Rule: "not-scanned", Detail: "unexpected EOF"}, wantOK: true},
		{name: "digest mismatch", f: Finding{Rule: "not-scanned", Category: "not-scanned", Evidence: "digest-mismatch: sha256:aa != sha256:bb", Integrity: true},
			want: Issue{Kind: "digest-mismatch", Class: ClassIntegrity, Rule: "not-scanned", Detail: "sha256:aa != sha256:bb"}, wantOK: true},
		{name: "path escape", f: Finding{Rule: "not-scanned", Category: "not-scanned", Path: "../x", Evidence: "path-escape: hardlink target escapes the root: ../../etc/passwd", Integrity: true},
			want: Issue{Kind: "path-escape", Class: ClassIntegrity, Rule: "not-scanned", Path: "../x", Detail: "hardlink target escapes the root: ../../etc/passwd"}, wantOK: true},
		{name: "kind as rule (multiengine)", f: Finding{Rule: "symlink-escape", Category: "not-scanned", Evidence: "link leaves the root", Integrity: true},
			want: Issue{Kind: "symlink-escape", Class: ClassIntegrity, Rule: "symlink-escape", Detail: "link leaves the root"}, wantOK: true},
		{name: "detector rule", f: Finding{Rule: "script-too-large", Category: "not-scanned", Evidence: "only the first 1048576 bytes of the script were parsed"},
			want: Issue{Kind: "script-too-large", Class: ClassLimit, Rule: "script-too-large", Detail: "only the first 1048576 bytes of the script were parsed"}, wantOK: true},
		{name: "integrity kind the detector did not mark", f: Finding{Rule: "not-scanned", Category: "not-scanned", Evidence: "layer-truncated: unexpected EOF"},
			want: Issue{Kind: "layer-truncated", Class: ClassLimit, Rule: "not-scanned", Detail: "unexpected EOF"}, wantOK: true},
		{name: "no kind prefix", f: Finding{Rule: "not-scanned", Category: "not-scanned", Evidence: "gzip member a.gz: content beyond 1 inflated bytes not scanned"},
			want: Issue{Kind: "not-scanned", Class: ClassLimit, Rule: "not-scanned", Detail: "gzip member a.gz: content beyond 1 inflated bytes not scanned"}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := IssueOf(tt.f)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("IssueOf = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestFromVerdictDecision pins that the report takes the detector's
// decision (detectors.Decide) and only lays issues out: it never upgrades
// or downgrades it.
func TestFromVerdictDecision(t *testing.T) {
	m := &v1.Manifest{Layers: []v1.Descriptor{{Digest: v1.Hash{Algorithm: "sha256", Hex: "aa"}}}}
	cf := &v1.ConfigFile{}
	broken := detectors.Finding{Category: detectors.CategoryNotScanned, Rule: "not-scanned", Evidence: "layer-truncated: unexpected EOF", Layer: 0, Integrity: true}
	for _, d := range []detectors.Decision{detectors.Clean, detectors.Incomplete, detectors.Invalid, detectors.Malicious} {
		st := FromVerdict("img", "", "sha256:bb", m, cf, detectors.Verdict{Decision: d, Findings: []detectors.Finding{broken}})
		if st.Decision != string(d) {
			t.Errorf("decision %s: report says %s", d, st.Decision)
		}
		if is := st.Layers[0].Issues; len(is) != 1 || is[0].Class != ClassIntegrity || is[0].Kind != "layer-truncated" {
			t.Errorf("decision %s: layer issues %+v, want one layer-truncated integrity issue", d, is)
		}
	}
}

func TestOutcome(t *testing.T) {
	target := func(name, decision string) Target {
		t := Target{Name: name, Decision: decision}
		if decision == "invalid" {
			t.Layers = []Layer{{Index: 3, Issues: []Issue{{Kind: "digest-mismatch", Class: ClassIntegrity}}}}
		}
		return t
	}
	tests := []struct {
		name         string
		decisions    []string
		failOn       FailOn
		wantCode     int
		wantFailed   int
		wantWarnings int
		wantText     string
	}{
		{name: "none", failOn: FailOnIncomplete, wantCode: ExitClean},
		{name: "clean", decisions: []string{"clean", "clean"}, failOn: FailOnIncomplete, wantCode: ExitClean},
		{name: "malicious", decisions: []string{"clean", "malicious"}, failOn: FailOnIncomplete, wantCode: ExitMalicious, wantFailed: 1, wantText: "b is malicious"},
		{name: "incomplete fails closed", decisions: []string{"incomplete"}, failOn: FailOnIncomplete, wantCode: ExitIncomplete, wantFailed: 1},
		{name: "invalid", decisions: []string{"invalid"}, failOn: FailOnIncomplete, wantCode: ExitInvalid, wantFailed: 1, wantText: "a is invalid (layer 3: digest-mismatch)"},
		{name: "invalid beats incomplete", decisions: []string{"incomplete", "invalid"}, failOn: FailOnIncomplete, wantCode: ExitInvalid, wantFailed: 2},
		{name: "malicious beats invalid", decisions: []string{"invalid", "malicious", "incomplete"}, failOn: FailOnIncomplete, wantCode: ExitMalicious, wantFailed: 3},
		{name: "unknown decision counts as invalid", decisions: []string{"incomplete", "suspicious"}, failOn: FailOnIncomplete, wantCode: ExitInvalid, wantFailed: 2},
		{name: "fail-on invalid lets incomplete pass", decisions: []string{"incomplete"}, failOn: FailOnInvalid, wantCode: ExitClean, wantWarnings: 1, wantText: "not failing: --fail-on invalid"},
		{name: "fail-on invalid", decisions: []string{"incomplete", "invalid"}, failOn: FailOnInvalid, wantCode: ExitInvalid, wantFailed: 1, wantWarnings: 1},
		{name: "fail-on malicious opts out", decisions: []string{"incomplete", "invalid"}, failOn: FailOnMalicious, wantCode: ExitClean, wantWarnings: 2},
		{name: "fail-on malicious", decisions: []string{"invalid", "malicious"}, failOn: FailOnMalicious, wantCode: ExitMalicious, wantFailed: 1, wantWarnings: 1},
		{name: "fail-on never", decisions: []string{"malicious", "invalid"}, failOn: FailOnNever, wantCode: ExitClean, wantWarnings: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep Report
			for i, d := range tt.decisions {
				rep.Targets = append(rep.Targets, target(string(rune('a'+i)), d))
			}
			o := rep.Outcome(tt.failOn)
			if o.Code != tt.wantCode || len(o.Failed) != tt.wantFailed || len(o.Warnings) != tt.wantWarnings {
				t.Errorf("Outcome = %+v, want code %d, %d failed, %d warnings", o, tt.wantCode, tt.wantFailed, tt.wantWarnings)
			}
			if all := strings.Join(append(o.Failed, o.Warnings...), "\n"); !strings.Contains(all, tt.wantText) {
				t.Errorf("messages lack %q:\n%s", tt.wantText, all)
			}
		})
	}
}

func TestParseFailOn(t *testing.T) {
	for _, f := range FailOnValues {
		if got, err := ParseFailOn(string(f)); err != nil || got != f {
			t.Errorf("ParseFailOn(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFailOn("clean"); err == nil || !strings.Contains(err.Error(), "incomplete, invalid, malicious, never") {
		t.Errorf("ParseFailOn(clean) error = %v", err)
	}
}
