package wild

// round2Subjects are the subjects of the second pre-registered round
// (Round 2): written after hierarchical 0.4.1 was frozen, by engineers who
// saw neither the detector's code nor any result, and held out entirely
// (split2.json: every one is test2).
func round2Subjects() []Subject {
	var out []Subject
	for _, part := range [][]Subject{round2MaliciousA(), round2MaliciousB(), round2Benign()} {
		for _, s := range part {
			s.Round = 2
			out = append(out, s)
		}
	}
	return out
}
