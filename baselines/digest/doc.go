// Package digest implements Docker Scout's signature method: a known-bad
// image is remembered by its manifest and config digests, and its malicious
// layers by their compressed digests and diffIDs. Two detectors use the
// signatures: "digest-image" fires when the whole image matches, and
// "digest-layer" when any layer matches a known-bad layer. Any change to an
// image or layer (a dummy layer, a new timestamp, squashing) changes these
// hashes, which is exactly what the experiments measure.
package digest
