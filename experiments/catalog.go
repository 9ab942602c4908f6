package experiments

import (
	"github.com/strata-sec/strata/baselines/digest"
	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/detectors/dockerfile"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// DetectorDoc describes one detector of the experiments for listings
// (`strata detectors`): what it does and which system of the paper's
// comparison it models.
type DetectorDoc struct {
	Name, Version, Description, Models string
}

// Catalog lists the detectors Detectors runs, sorted by name (the
// hierarchical detector's ablation variants are not listed).
func Catalog() []DetectorDoc {
	return []DetectorDoc{
		{digest.ImageName, digest.Version, "image (manifest and config) digests learned from the first sighting", "Docker Scout (hash signature)"},
		{digest.LayerName, digest.Version, "layer digests learned from the first sighting", "Docker Scout (hash signature)"},
		{dockerfile.Name, dockerfile.Version, dockerfile.Description, "DAVS (Dockerfile analysis before build)"},
		{hierarchical.Name, hierarchical.Version, "layer-by-layer evidence (behaviour, pools, scripts, binaries, start graph) with cross-layer correlation", "the paper's proposed detector"},
		{multiengine.Name, multiengine.Version, "per-file SHA-256, ClamAV and YARA signatures learned from the first sighting", "VirusTotal (multi-engine)"},
	}
}
