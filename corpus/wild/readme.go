package wild

import (
	"fmt"
	"strings"
)

// README markers: the subject table between them is generated from
// Subjects() and split.json (go test ./corpus/wild -run TestREADME -update).
const (
	readmeBegin = "<!-- subjects:begin (generated from subjects_*.go and split.json: go test ./corpus/wild -run TestREADME -update) -->"
	readmeEnd   = "<!-- subjects:end -->"
)

// subjectTable renders the README's subject table.
func subjectTable(subjects []Subject) string {
	var b strings.Builder
	fmt.Fprintln(&b, "| subject | label | family | split | what it models | source |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, s := range subjects {
		label := s.Label
		if s.Adjacent {
			label += " (mining-adjacent)"
		}
		src := s.Source
		if src != "" {
			src = "<" + src + ">"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", s.Name, label, s.Family, SplitOf(s.Name), cell(s.Models), src)
	}
	return b.String()
}

// withSubjectTable replaces the table between the markers of readme.
func withSubjectTable(readme string, subjects []Subject) (string, error) {
	i := strings.Index(readme, readmeBegin)
	j := strings.Index(readme, readmeEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md lacks the markers %q ... %q", readmeBegin, readmeEnd)
	}
	return readme[:i+len(readmeBegin)] + "\n\n" + subjectTable(subjects) + "\n" + readme[j:], nil
}
