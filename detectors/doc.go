// Package detectors defines the Detector interface every strata detector and
// baseline implements, with its Verdict, Finding and Decision types.
// Detectors read images with the layer walker of internal/layers (whiteouts,
// hidden files, history alignment, limits) and cache per-layer results with
// internal/layers/layercache.
//
// The hierarchical detector lives in the hierarchical subpackage; see
// README.md for its rules and for how to add a detector.
package detectors
