// Package hostile holds the hostile-image corpus: tests that build crafted
// and malicious images at run time (bombs, traversal, broken compression,
// lying digests, absurd configs) and check that a scan either fails with a
// clear error or finishes bounded and never calls unscanned content clean.
// It has no non-test code.
//
// # Evasion suite
//
// evasion_test.go puts an inert stand-in payload (a dropper script with an
// XMRig-style command line, a Monero-format wallet and a kill-competitors
// loop, started by ENTRYPOINT) right behind each walker limit and recursion
// bound. Each case must end with the decision below, never clean, and
// `strata scan` must exit non-zero by default (1 malicious, 3 incomplete).
// The images are generated at test time; zeros are streamed into gzip.
//
//	case                      want        why
//	control                   malicious   the payload alone: every other row hides something the detector finds
//	ratio-bomb-1GiB           malicious   1 GiB of zeros before the payload in one gzip layer; zeros cost nothing to read
//	big-file-40MiB-text       malicious   payload at the end of a 40 MiB script, past the old 32 MiB per-file limit
//	big-file-40MiB-zeros      malicious   the same, padded with zeros: binary-looking content is matched too
//	nul-head-9KiB             malicious   payload after 8 KiB of zeros: no limit near, only the classification window
//	100k-tiny-files           malicious   100,000 one-byte files first; below the 2^20 entry limit, all applied
//	nested-10-tgz             incomplete  10 levels of tar.gz; the archive depth bound (4 containers) says what it skipped
//	last-of-500-layers        malicious   payload in the last of 500 layers; every layer is walked
//	pax-header-64KiB          malicious   64 KiB PAX records before and on the payload's entry; read up to 1 MiB
//	gzip-file-second-member   malicious   payload in member 2 of a multi-member .gz file, as gunzip reads it
//	gzip-layer-second-member  malicious   a layer blob of two gzip members, the payload's entry in the second
//	hidden-by-whiteout        malicious   added in layer 0, deleted by a whiteout in layer 1: hidden content counts
//	nested-2-tgz              malicious   a tgz in a tgz is within the depth bound: found, not merely incomplete
//
// TestEvasionPeakRSS (not under -short) builds cmd/strata, writes every
// case and the largest hostile cases as OCI layouts, scans each in a child
// process and checks its peak RSS stays under 200 MB; it logs the figures.
package hostile
