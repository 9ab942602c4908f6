package wild

// round3Subjects are the subjects of the third pre-registered round
// (Round 3): written after round 2 was scanned, by engineers who saw
// neither the detector's code nor any result, and held out entirely
// (split3.json: every one is test3).
func round3Subjects() []Subject {
	return inRound(3, round3Malicious(), round3Benign())
}
