package dockerfile

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// MarkerPrefix starts the comment that marks the next Dockerfile instruction
// as malicious: "# strata:malicious=L8". Comments never reach the image, so
// the marker labels ground truth without leaving a trace a detector could
// read.
const MarkerPrefix = "strata:malicious="

// Marker is the tag of n's ground-truth marker ("L9"), "" if n is unmarked.
// BuildKit's parser keeps the comment lines between the previous
// instruction and n (blank lines do not end the block) in
// Node.PrevComment; any of them may carry the marker.
func Marker(n *parser.Node) string {
	for _, c := range n.PrevComment {
		c = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "#"))
		if tag, ok := strings.CutPrefix(c, MarkerPrefix); ok {
			return tag
		}
	}
	return ""
}

// MarkerLine is the comment line that marks the next instruction with tag.
func MarkerLine(tag string) string { return "# " + MarkerPrefix + tag }

// Marked returns line preceded by the marker comment of tag (none for "").
func Marked(tag, line string) []string {
	if tag == "" {
		return []string{line}
	}
	return []string{MarkerLine(tag), line}
}
