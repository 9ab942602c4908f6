package experiments

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/strata-sec/strata/baselines/digest"
	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// Detectors returns every detector an experiment runs, sorted by name. The
// signature baselines learn from firstSighting — the full, unmutated
// malicious image, as a vendor would see it first — and what they learned is
// saved beside the records (signatures.json) so a reader can check it.
func Detectors(cfg Config, firstSighting Built, resultsDir string) (dets []detectors.Detector, closeAll func(), err error) {
	sigs, err := digest.Learn(firstSighting.Image, firstSighting.Truth.MaliciousLayers)
	if err != nil {
		return nil, nil, fmt.Errorf("learn signatures from %s: %w", firstSighting.Name, err)
	}
	if err := os.MkdirAll(resultsDir, 0o755); err != nil {
		return nil, nil, err
	}
	if err := sigs.Save(filepath.Join(resultsDir, "signatures.json")); err != nil {
		return nil, nil, err
	}
	msigs, err := multiengine.Learn(firstSighting.Image, firstSighting.Truth.MaliciousLayers)
	if err != nil {
		return nil, nil, fmt.Errorf("learn multi-engine signatures from %s: %w", firstSighting.Name, err)
	}
	if err := msigs.Save(filepath.Join(resultsDir, "multiengine-signatures.json")); err != nil {
		return nil, nil, err
	}
	me, err := multiengine.New(msigs, multiengine.WithCacheDir(filepath.Join(cfg.CacheDir, "scan-cache", "multiengine")))
	if err != nil {
		return nil, nil, err
	}
	dets = []detectors.Detector{
		digest.NewImage(sigs),
		digest.NewLayer(sigs),
		hierarchical.New(),
		me,
	}
	return dets, func() { me.Close() }, nil
}
