package wild

// round3Benign returns round-3 subjects (see round3Subjects).
func round3Benign() []Subject {
	return nil
}
