package dockerfile

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Edit replaces Remove original lines after the first After lines with
// Lines (instructions or comments, one per line, without terminators).
// Remove == 0 is an insertion, which Splice precedes with a blank line.
type Edit struct {
	After  int
	Remove int
	Lines  []string
}

// Insert is an Edit inserting lines after the first after original lines.
func Insert(after int, lines ...string) Edit { return Edit{After: after, Lines: lines} }

// Replace is an Edit replacing n's own lines (StartLine..EndLine, heredocs
// included). The comment block above n stays, so a ground-truth marker
// stays attached to the first replacement line.
func Replace(n *parser.Node, lines ...string) Edit {
	return Edit{After: n.StartLine - 1, Remove: n.EndLine - n.StartLine + 1, Lines: lines}
}

// Splice returns the original text with the edits applied; every original
// line not removed survives byte for byte, in order. Edits at the same
// position keep their order. A file that ends without a newline gets one
// before text appended after its last line.
func (f *File) Splice(edits ...Edit) []byte {
	edits = append([]Edit(nil), edits...)
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].After < edits[j].After })
	var b bytes.Buffer
	k, skip := 0, 0
	for i := 0; i <= len(f.Lines); i++ {
		for ; k < len(edits) && edits[k].After == i; k++ {
			e := edits[k]
			if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
				b.WriteByte('\n')
			}
			if e.Remove == 0 {
				b.WriteByte('\n')
			}
			for _, l := range e.Lines {
				b.WriteString(l)
				b.WriteByte('\n')
			}
			skip = max(skip, e.Remove)
		}
		if i == len(f.Lines) {
			break
		}
		if skip > 0 {
			skip--
			continue
		}
		b.WriteString(f.Lines[i])
	}
	return b.Bytes()
}

// JSONArray renders an exec-form argument list as the corpus writes it:
// ["a", "b"], without HTML escaping (">" stays ">").
func JSONArray(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(a) // a string always encodes
		parts[i] = strings.TrimSuffix(b.String(), "\n")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
