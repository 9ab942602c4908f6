package corpus

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/strata-sec/strata/internal/layers"
)

// MarkerPrefix starts the comment that marks the next Dockerfile instruction
// as malicious: "# strata:malicious=L8". Comments never reach the image, so
// the marker labels ground truth without leaving a trace a detector could
// read.
const MarkerPrefix = "strata:malicious="

// Truth is the ground truth of one built image.
type Truth struct {
	// MaliciousLayers are layer indices (0 = bottom) that a malicious
	// instruction produced, ascending.
	MaliciousLayers []int
	// MaliciousConfig lists malicious instructions that produced no layer
	// (ENTRYPOINT, ENV, ...) as their history created_by.
	MaliciousConfig []string
	// Tags maps each malicious layer index to its marker tag (e.g. "L8").
	Tags map[int]string
}

// Malicious reports whether the image carries any malicious layer or config.
func (t Truth) Malicious() bool { return len(t.MaliciousLayers) > 0 || len(t.MaliciousConfig) > 0 }

// GroundTruth maps the marked instructions of the Dockerfile's final stage to
// the built image's layers. BuildKit writes exactly one history entry per
// instruction of the final stage and of every stage it is built FROM (after
// the external base image's baseHistory entries); the entries with a layer
// map in order to the image's layers. A count mismatch is an error, never a
// guess.
func GroundTruth(dockerfile []byte, cf *v1.ConfigFile, baseHistory int) (Truth, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return Truth{}, fmt.Errorf("parse Dockerfile: %w", err)
	}
	chain, err := finalChain(res.AST.Children)
	if err != nil {
		return Truth{}, err
	}
	want := baseHistory + len(chain)
	if len(cf.History) != want {
		return Truth{}, fmt.Errorf("image has %d history entries, want %d (base %d + %d instructions): cannot align ground truth", len(cf.History), want, baseHistory, len(chain))
	}
	al := layers.Align(cf.History, len(cf.RootFS.DiffIDs))
	if al.Mismatch() {
		return Truth{}, fmt.Errorf("image has %d non-empty history entries but %d layers", al.NonEmpty, len(cf.RootFS.DiffIDs))
	}
	t := Truth{Tags: map[int]string{}}
	for i, node := range chain {
		tag := marker(node.PrevComment)
		if tag == "" {
			continue
		}
		hi := baseHistory + i
		if l := al.LayerOf(hi); l != layers.NoLayer {
			t.MaliciousLayers = append(t.MaliciousLayers, l)
			t.Tags[l] = tag
		} else {
			t.MaliciousConfig = append(t.MaliciousConfig, cf.History[hi].CreatedBy)
		}
	}
	sort.Ints(t.MaliciousLayers)
	return t, nil
}

func marker(comments []string) string {
	for _, c := range comments {
		c = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "#"))
		if strings.HasPrefix(c, MarkerPrefix) {
			return strings.TrimPrefix(c, MarkerPrefix)
		}
	}
	return ""
}

// finalChain returns the instructions that make up the final stage's image:
// those of every stage it is built FROM (by stage name), then its own.
func finalChain(nodes []*parser.Node) ([]*parser.Node, error) {
	type stage struct {
		from  string
		name  string
		instr []*parser.Node
	}
	var stages []*stage
	for _, n := range nodes {
		if strings.EqualFold(n.Value, "from") {
			st := &stage{}
			if n.Next != nil {
				st.from = strings.ToLower(n.Next.Value)
				if a := n.Next.Next; a != nil && strings.EqualFold(a.Value, "as") && a.Next != nil {
					st.name = strings.ToLower(a.Next.Value)
				}
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue // ARG before the first FROM: global, no history entry
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, n)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("Dockerfile has no FROM")
	}
	var chain []*parser.Node
	cur := stages[len(stages)-1]
	for depth := 0; ; depth++ {
		if depth > len(stages) {
			return nil, fmt.Errorf("Dockerfile stages form a cycle")
		}
		chain = append(append([]*parser.Node{}, cur.instr...), chain...)
		var parent *stage
		for _, st := range stages {
			if st != cur && st.name != "" && st.name == cur.from {
				parent = st
			}
		}
		if parent == nil {
			return chain, nil
		}
		cur = parent
	}
}
