// Package census holds the benign census of issue #18: the committed,
// pre-registered lists of real software (Debian packages, Debian's
// python3-* distributions, the most-used npm packages) with their dev/test
// split, the draw and pin steps that made them, the fetch of each package
// through the machine's own package clients, and the assembly of one image
// per package with go-containerregistry.
package census
