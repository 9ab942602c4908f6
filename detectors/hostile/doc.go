// Package hostile holds the hostile-image corpus: tests that build crafted
// and malicious images at run time (bombs, traversal, broken compression,
// lying digests, absurd configs) and check that a scan either fails with a
// clear error or finishes bounded and never calls unscanned content clean.
// It has no non-test code.
package hostile
