package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/strata-sec/strata/baselines/digest"
	"github.com/strata-sec/strata/baselines/inventory"
	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

func init() {
	register("detectors", command{
		summary: "list the detectors the experiments run (name, version, paper system modelled, description)",
		run:     runDetectors,
	})
}

// detectorEntry is one line of `strata detectors`.
type detectorEntry struct {
	name, version, models, summary string
}

// detectorCatalog lists the experiments' detectors, sorted by name.
var detectorCatalog = []detectorEntry{
	{digest.ImageName, digest.Version, "Docker Scout", "image, manifest and config digests learned from the first sighting"},
	{digest.LayerName, digest.Version, "Docker Scout", "layer digests learned from the first sighting"},
	{hierarchical.Name, hierarchical.Version, "the paper's proposed method", "layer-by-layer evidence (behaviour, domains, scripts, binaries) tied to the start graph"},
	{inventory.Name, inventory.Version, "Clair / Trivy / Anchore", "syft SBOM matched against a pinned list of malicious and miner packages"},
	{inventory.ClamAVName, inventory.ClamAVVersion, "Anchore (with its ClamAV malware scan)", "the inventory verdict OR ClamAV over the squashed image's files"},
	{multiengine.Name, multiengine.Version, "VirusTotal", "SHA-256, ClamAV and YARA signatures learned from the first sighting, any engine"},
}

func runDetectors(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("detectors", "", stderr)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tMODELS\tDESCRIPTION")
	for _, d := range detectorCatalog {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.name, d.version, d.models, d.summary)
	}
	return tw.Flush()
}
