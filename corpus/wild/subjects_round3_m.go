package wild

// round3Malicious returns round-3 subjects (see round3Subjects).
func round3Malicious() []Subject {
	return nil
}
