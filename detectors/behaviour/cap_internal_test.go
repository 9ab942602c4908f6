package behaviour

import (
	"testing"

	"github.com/strata-sec/strata/detectors"
)

func TestCapWeightsKeepsScore(t *testing.T) {
	tests := []struct {
		name string
		fs   []detectors.Finding
		want float64
	}{
		{"many connects count 2", []detectors.Finding{{Rule: RuleConnect, Weight: 1}, {Rule: RuleConnect, Weight: 1}, {Rule: RuleConnect, Weight: 1}}, 2},
		{"two logins count 10", []detectors.Finding{{Rule: RuleStratumLogin, Weight: 10}, {Rule: RuleStratumLogin, Weight: 10}}, 10},
		{"mixed", []detectors.Finding{{Rule: RuleCPUBurn, Weight: 3}, {Rule: RuleHTTPRequest, Weight: 1}}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := 0.0
			for _, f := range capWeights(tt.fs) {
				sum += f.Weight
			}
			if score, _ := Score(tt.fs); sum != tt.want || score != tt.want {
				t.Errorf("capped sum %g, Score %g, want %g", sum, score, tt.want)
			}
		})
	}
}
