// Package layercache caches what a layers.FileAnalyzer found in each layer,
// keyed by the layer's diffID, the analyzer's key and the walk options, in
// memory and optionally on disk. Wrap decorates an analyzer so a walk
// replays cached layers without opening their blobs.
package layercache
