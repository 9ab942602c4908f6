package detectors_test

import (
	"testing"

	"github.com/strata-sec/strata/detectors"
)

func TestDecide(t *testing.T) {
	limit := detectors.Finding{Category: detectors.CategoryNotScanned, Rule: "not-scanned", Evidence: "entry-limit: ...", Layer: 0}
	broken := detectors.Finding{Category: detectors.CategoryNotScanned, Rule: "not-scanned", Evidence: "layer-truncated: ...", Layer: 1, Integrity: true}
	evidence := detectors.Finding{Category: detectors.CategoryDomainIP, Rule: "pool", Weight: 5, Layer: 2}
	tests := []struct {
		name      string
		score     float64
		threshold float64
		findings  []detectors.Finding
		want      detectors.Decision
	}{
		{name: "nothing", score: 0, threshold: 10, want: detectors.Clean},
		{name: "evidence below threshold", score: 5, threshold: 10, findings: []detectors.Finding{evidence}, want: detectors.Clean},
		{name: "limit", score: 5, threshold: 10, findings: []detectors.Finding{evidence, limit}, want: detectors.Incomplete},
		{name: "integrity", score: 0, threshold: 10, findings: []detectors.Finding{broken}, want: detectors.Invalid},
		{name: "integrity beats limit", score: 0, threshold: 10, findings: []detectors.Finding{limit, broken}, want: detectors.Invalid},
		{name: "malicious beats integrity", score: 10, threshold: 10, findings: []detectors.Finding{broken, evidence}, want: detectors.Malicious},
		{name: "malicious beats limit", score: 12, threshold: 10, findings: []detectors.Finding{limit}, want: detectors.Malicious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectors.Decide(tt.score, tt.threshold, tt.findings); got != tt.want {
				t.Errorf("Decide(%v, %v, %v) = %s, want %s", tt.score, tt.threshold, tt.findings, got, tt.want)
			}
		})
	}
}
