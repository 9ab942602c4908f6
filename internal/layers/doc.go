// Package layers walks the layers of an OCI image the way a container
// runtime applies them: it streams each layer's uncompressed tar once,
// applies whiteouts, opaque directories and hard links, keeps deleted files
// as hidden entries with the layers that added and removed them, aligns
// config history to layers (Align), verifies digests, and reports every
// limit it hits as an Issue so a detector can say "not scanned" instead of
// "clean".
//
// The Result exposes the final view and, per layer, what the layer added
// and deleted (LayerInfo.Changes). Per-file analyzers plug in as a
// FileAnalyzer; the layercache subpackage wraps one with a per-layer cache.
package layers
