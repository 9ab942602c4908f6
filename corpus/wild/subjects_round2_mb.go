package wild

// round2MaliciousB returns round-2 subjects (see round2Subjects).
func round2MaliciousB() []Subject {
	return nil
}
