package wild

// round2Benign returns round-2 subjects (see round2Subjects).
func round2Benign() []Subject {
	return nil
}
