package wild

// round2MaliciousA returns round-2 subjects (see round2Subjects).
func round2MaliciousA() []Subject {
	return nil
}
