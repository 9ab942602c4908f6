package experiments

import (
	"github.com/strata-sec/strata/baselines/digest"
	"github.com/strata-sec/strata/baselines/inventory"
	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/detectors/dockerfile"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// DetectorDoc describes one detector of the experiments for listings
// (`strata detectors`): what it does and which system of the paper's
// comparison it models.
type DetectorDoc struct {
	Name, Version, Description, Models string
	// OptIn: the experiments run it only when --detectors names it.
	OptIn bool
}

// Catalog lists the detectors of the experiments, sorted by name (the
// hierarchical detector's ablation variants are not listed; behaviour and
// hierarchical+dynamic run only when --detectors names them).
func Catalog() []DetectorDoc {
	return []DetectorDoc{
		{behaviour.Name, behaviour.Version, "runs the image's start command in a sealed runc sandbox (DNS sinkhole, catch-all stratum/HTTP listener) and judges what it did; opt-in", "VirusTotal's behaviour analysis", true},
		{digest.ImageName, digest.Version, "image (manifest and config) digests learned from the first sighting", "Docker Scout (hash signature)", false},
		{digest.LayerName, digest.Version, "layer digests learned from the first sighting", "Docker Scout (hash signature)", false},
		{dockerfile.Name, dockerfile.Version, dockerfile.Description, "DAVS (Dockerfile analysis before build)", false},
		{hierarchical.Name, hierarchical.Version, "layer-by-layer evidence (behaviour, pools, scripts, binaries, start graph) with cross-layer correlation", "the paper's proposed detector", false},
		{hierarchical.Name + hierarchical.DynamicSuffix, hierarchical.DynamicVersion(behaviour.Version), "the hierarchical verdict with the behaviour sandbox's observations as its dynamic signal; opt-in", "the paper's detector plus dynamic analysis", true},
		{inventory.Name, inventory.Version, "syft SBOM (dpkg, apk, npm, Python, Go, Java) matched against a pinned list of malicious and miner packages", "Clair / Trivy / Anchore", false},
		{inventory.ClamAVName, inventory.ClamAVVersion, "the inventory verdict OR ClamAV over the squashed image's files", "Anchore (with its ClamAV malware scan)", false},
		{multiengine.Name, multiengine.Version, "per-file SHA-256, ClamAV and YARA signatures learned from the first sighting", "VirusTotal (multi-engine)", false},
	}
}

// DefaultDetectorNames are the names of the catalog's detectors that every
// experiment runs when --detectors is not given, sorted.
func DefaultDetectorNames() []string {
	var names []string
	for _, d := range Catalog() {
		if !d.OptIn {
			names = append(names, d.Name)
		}
	}
	return names
}
