// Package inventory models the package-inventory scanners (Clair, Trivy,
// Anchore) as a baseline: it builds an image's SBOM with syft as a library
// (in the strata-sbom helper process, package syftsbom, so that strata
// itself does not link syft) and matches every package against a pinned
// list of known-malicious and miner packages (data/packages.tsv, each
// entry with its public source).
// The inventory+clamav variant adds Anchore's malware step: ClamAV over the
// image's visible files with the multi-engine baseline's signatures. A
// LayerCache shares verified, decompressed layers between scans.
package inventory
