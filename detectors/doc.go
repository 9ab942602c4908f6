// Package detectors defines the Detector interface every strata detector and
// baseline implements, and the image walker they share: it streams each
// layer's uncompressed tar once, applies OCI whiteouts and opaque directories,
// keeps deleted files as hidden entries with the layers that added and removed
// them, aligns config history to layers, and reports every limit it hits so a
// detector can say "not scanned" instead of "clean".
//
// The hierarchical detector lives in the hierarchical subpackage; see
// README.md for its rules and for how to add a detector.
package detectors
