package experiments

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/strata-sec/strata/corpus/census"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestCensusCanariesFlagged: every positive control of the census,
// assembled the census's way (on an empty base here; TestCensusSlice
// assembles them on the real runtime bases), is flagged by the
// hierarchical detector, and blamed on its own layer. A detector that
// misses a canary makes the census's "no false alarm" say nothing.
func TestCensusCanariesFlagged(t *testing.T) {
	for _, eco := range []string{census.Debian, census.Python, census.NPM} {
		if !slices.ContainsFunc(census.Canaries, func(c census.Canary) bool { return c.Ecosystem == eco }) {
			t.Errorf("no canary for %s: every list ecosystem needs one", eco)
		}
	}
	det := hierarchical.New()
	for _, c := range census.Canaries {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			lf, createdBy, workdir, err := census.WriteCanaryLayer(filepath.Join(dir, "layer.tar.gz"), filepath.Join(dir, "work"), c, DefaultEpoch)
			if err != nil {
				t.Fatal(err)
			}
			if createdBy == "" || (c.Ecosystem == census.NPM) != (workdir == "/"+census.AppDir) {
				t.Errorf("created_by %q, workdir %q: not the census's", createdBy, workdir)
			}
			img, err := census.Assemble(empty.Image, lf, createdBy, DefaultEpoch, workdir)
			if err != nil {
				t.Fatal(err)
			}
			v, err := det.Scan(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != detectors.Malicious {
				var rules []string
				for _, f := range v.Findings {
					rules = append(rules, f.Rule+"@"+f.Path)
				}
				t.Errorf("hierarchical %s: %s, score %.1f of %.1f (%v): the canary (%s) is not flagged", det.Version(), v.Decision, v.Score, v.Threshold, rules, c.Carries)
			}
			if !slices.Contains(v.BlamedLayers, 0) {
				t.Errorf("blamed layers %v: want the canary's layer (0)", v.BlamedLayers)
			}
		})
	}
}
