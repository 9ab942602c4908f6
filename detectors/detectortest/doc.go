// Package detectortest builds small images in memory for detector tests:
// layers from file lists (including whiteouts, opaque directories and links)
// and images from steps that carry a created_by string, with empty_layer
// history entries where a step has no files.
package detectortest
