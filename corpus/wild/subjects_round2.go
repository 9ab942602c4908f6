package wild

// round2Subjects are the subjects of the second pre-registered round
// (Round 2): written after hierarchical 0.4.1 was frozen, by engineers who
// saw neither the detector's code nor any result, and held out entirely
// (split2.json: every one is test2).
func round2Subjects() []Subject {
	return inRound(2, round2MaliciousA(), round2MaliciousB(), round2Benign())
}

// inRound returns the subjects of the parts with Round set to round.
func inRound(round int, parts ...[]Subject) []Subject {
	var out []Subject
	for _, part := range parts {
		for _, s := range part {
			s.Round = round
			out = append(out, s)
		}
	}
	return out
}
