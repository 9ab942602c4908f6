package inventory

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	l := DefaultList()
	tests := []struct {
		name               string
		eco, pkg, version  string
		want               bool
		wantSourceContains string
	}{
		{name: "hijacked ua-parser-js release", eco: EcoNPM, pkg: "ua-parser-js", version: "0.7.29", want: true, wantSourceContains: "GHSA-pjwm-rvh2-c87w"},
		{name: "ua-parser-js 1.0.0", eco: EcoNPM, pkg: "ua-parser-js", version: "1.0.0", want: true},
		{name: "ua-parser-js fixed release", eco: EcoNPM, pkg: "ua-parser-js", version: "0.7.30"},
		{name: "ua-parser-js earlier release", eco: EcoNPM, pkg: "ua-parser-js", version: "0.7.28"},
		{name: "coa hijacked", eco: EcoNPM, pkg: "coa", version: "2.1.3", want: true, wantSourceContains: "GHSA-73qr-pfmq-6rp8"},
		{name: "coa last good", eco: EcoNPM, pkg: "coa", version: "2.0.2"},
		{name: "rc hijacked", eco: EcoNPM, pkg: "rc", version: "1.2.9", want: true, wantSourceContains: "GHSA-g2q5-5433-rhrf"},
		{name: "rc good", eco: EcoNPM, pkg: "rc", version: "1.2.8"},
		{name: "npm name in another ecosystem", eco: EcoPyPI, pkg: "rc", version: "1.2.9"},
		{name: "npm names are case-insensitive here", eco: EcoNPM, pkg: "UA-Parser-JS", version: "0.8.0", want: true},
		{name: "miner by purpose, any version", eco: EcoNPM, pkg: "coin-hive", version: "9.9.9", want: true},
		{name: "similar benign npm name", eco: EcoNPM, pkg: "coinhive-detector", version: "1.0.0"},
		{name: "similar benign ua parser", eco: EcoNPM, pkg: "ua-parser", version: "0.7.29"},
		{name: "pypi names are case-insensitive", eco: EcoPyPI, pkg: "MaratLib", version: "0.1", want: true},
		{name: "ultralytics hijacked", eco: EcoPyPI, pkg: "ultralytics", version: "8.3.45", want: true, wantSourceContains: "ultralytics/issues/18027"},
		{name: "ultralytics clean", eco: EcoPyPI, pkg: "ultralytics", version: "8.3.40"},
		{name: "scoped npm name", eco: EcoNPM, pkg: "@rspack/core", version: "1.1.7", want: true, wantSourceContains: "rspack/issues/8767"},
		{name: "scoped npm name, clean release", eco: EcoNPM, pkg: "@rspack/core", version: "1.1.6"},
		{name: "real matplotlib", eco: EcoPyPI, pkg: "matplotlib", version: "3.8.0"},
		{name: "pypi xmrig API client is not listed", eco: EcoPyPI, pkg: "xmrig", version: "1.1.2"},
		{name: "alpine xmrig", eco: EcoAPK, pkg: "xmrig", version: "6.21.0-r0", want: true},
		{name: "debian xmrig is not in bookworm and not listed", eco: EcoDeb, pkg: "xmrig", version: "6.21.0"},
		{name: "go main module", eco: EcoGo, pkg: "github.com/decred/gominer", version: "(devel)", want: true},
		{name: "go paths are exact", eco: EcoGo, pkg: "github.com/Decred/gominer", version: "v1.0.0"},
		{name: "go module with the miner as prefix", eco: EcoGo, pkg: "github.com/decred/gominer-tools", version: "v1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, got := l.Match(tt.eco, tt.pkg, tt.version)
			if got != tt.want {
				t.Fatalf("Match(%s, %s, %s) = %v (%+v), want %v", tt.eco, tt.pkg, tt.version, got, e, tt.want)
			}
			if !strings.Contains(e.Source, tt.wantSourceContains) {
				t.Errorf("source %q, want it to contain %q", e.Source, tt.wantSourceContains)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantN   int
		wantErr string
	}{
		{name: "comments and blanks", in: "# c\n\nnpm\ta\tany\tminer\thttps://example.com/a\n", wantN: 1},
		{name: "versions", in: "npm\ta\t1.0.0, 1.0.1\tmalicious\thttps://example.com/a\tnote\n", wantN: 1},
		{name: "unknown ecosystem", in: "cargo\ta\tany\tminer\thttps://example.com/a\n", wantErr: "unknown ecosystem"},
		{name: "bad kind", in: "npm\ta\tany\tbad\thttps://example.com/a\n", wantErr: "kind"},
		{name: "no source", in: "npm\ta\tany\tminer\texample.com\n", wantErr: "https URL"},
		{name: "too few fields", in: "npm\ta\tany\n", wantErr: "tab-separated"},
		{name: "empty version", in: "npm\ta\t1.0,\tminer\thttps://example.com/a\n", wantErr: "empty version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseList([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Entries) != tt.wantN {
				t.Errorf("%d entries, want %d", len(l.Entries), tt.wantN)
			}
		})
	}
}

// Every committed entry has a source and parses (DefaultList panics otherwise).
func TestDefaultList(t *testing.T) {
	l := DefaultList()
	if len(l.Entries) < 10 {
		t.Fatalf("committed list has %d entries", len(l.Entries))
	}
}
