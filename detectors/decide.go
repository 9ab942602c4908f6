package detectors

// Decide is the decision rule every detector shares, so a score, a limit
// and an integrity error mean the same thing whoever reports them:
//   - Malicious when score reaches threshold: evidence found in what was
//     read stands, whatever the unread or broken part holds;
//   - otherwise Invalid when any finding is an integrity error
//     (Finding.Integrity): the image is not what its manifest names, so
//     nothing read from it can be called clean;
//   - otherwise Incomplete when any finding is in CategoryNotScanned;
//   - otherwise Clean.
func Decide(score, threshold float64, findings []Finding) Decision {
	if score >= threshold {
		return Malicious
	}
	out := Clean
	for _, f := range findings {
		if f.Integrity {
			return Invalid
		}
		if f.Category == CategoryNotScanned {
			out = Incomplete
		}
	}
	return out
}
