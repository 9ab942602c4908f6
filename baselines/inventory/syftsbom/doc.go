// Package syftsbom builds the inventory baseline's SBOM with syft (and
// stereoscope) as libraries. It runs in its own executable,
// cmd/strata-sbom, never in strata: syft's dependency tree would add about
// 90 MB to the scanner's binary and its resident memory on every
// `strata scan`, which uses none of it. strata stages an image's verified,
// decompressed layers (inventory.LayerCache) and sends the helper one
// Request per image over its standard input; Serve answers with the
// image's packages. The helper never decompresses or fetches a layer: a
// layer that was not staged is an error.
package syftsbom
