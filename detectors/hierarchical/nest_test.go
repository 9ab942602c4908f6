package hierarchical_test

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestDeepNestingNotScanned: 300k nested brackets once overflowed the shell
// parser's stack (a fatal error, not a panic). Such text is now not parsed:
// the verdict says what was not analysed (incomplete, not clean) and keeps
// what the text rules find in the raw text.
func TestDeepNestingNotScanned(t *testing.T) {
	const depth = 300_000
	forms := []struct{ name, open, close string }{
		{"subshell", "(", ")"},
		{"command substitution", "$(", ")"},
		{"block", "{ ", "; }"},
		{"arithmetic substitution", "$((", "))"},
	}
	for _, f := range forms {
		text := "echo stratum+tcp://198.51.100.7:3333; " + strings.Repeat(f.open, depth) + "true" + strings.Repeat(f.close, depth)
		for _, where := range []string{"script", "history"} {
			t.Run(f.name+" in "+where, func(t *testing.T) {
				img := dt.Image(t, v1.Config{}, dt.Run(text))
				if where == "script" {
					img = dt.Image(t, v1.Config{}, dt.Run("true", dt.Exec("usr/local/bin/run.sh", "#!/bin/sh\n"+text)))
				}
				v, err := hierarchical.New(hierarchical.WithLayerCache(nil)).Scan(context.Background(), img)
				if err != nil {
					t.Fatal(err)
				}
				if v.Decision != detectors.Incomplete {
					t.Errorf("decision = %s, want %s", v.Decision, detectors.Incomplete)
				}
				var notParsed, stratum bool
				var rules []string
				for _, fd := range v.Findings {
					rules = append(rules, fd.Rule)
					switch {
					case fd.Rule == hierarchical.RuleNotScanned && strings.Contains(fd.Evidence, " not parsed ("):
						notParsed = true
					case fd.Rule == hierarchical.RuleStratumURL:
						stratum = true
					}
				}
				if !notParsed || !stratum {
					t.Errorf("want a not-scanned finding for the unparsed text and the stratum URL; rules %v", rules)
				}
			})
		}
	}
}
