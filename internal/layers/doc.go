// Package layers walks the layers of an OCI image the way a container
// runtime applies them: it streams each layer's uncompressed tar once,
// applies whiteouts, opaque directories and hard links, keeps deleted files
// as hidden entries with the layers that added and removed them, aligns
// config history to layers (Align), verifies digests against the manifest
// and diffIDs from the config (never computed by decompressing), and
// reports every problem as an Issue so a detector can say "not scanned"
// or "invalid" instead of "clean".
//
// It fails closed: analyzers get every byte of every file, and only
// image-wide budgets (bytes, entries, wall time; see the Default
// constants) stop a walk, reporting the rest of the image as an Issue whose
// Limit is true. Issues whose Integrity is true (a truncated or corrupt
// layer, a digest or diffID mismatch, missing diffIDs, an entry escaping
// the root) mean the image is not what it names.
//
// The Result exposes the final view and, per layer, what the layer added
// and deleted (LayerInfo.Changes). Per-file analyzers plug in as a
// FileAnalyzer; the layercache subpackage wraps one with a per-layer cache
// whose directory is a trust boundary (records are checksummed, not
// authenticated). With WithParallelLayers, a ContentAnalyzer's files of
// later layers are analysed on other goroutines while the walk applies the
// earlier ones in order; the Result is the same as a walk one layer at a
// time.
package layers
