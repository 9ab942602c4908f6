package corpus

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
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
// instruction of the final stage (after the base image's entries); the
// entries with a layer map in order to the image's layers. A count mismatch
// is an error, never a guess.
func GroundTruth(dockerfile []byte, cf *v1.ConfigFile, baseHistory int) (Truth, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return Truth{}, fmt.Errorf("parse Dockerfile: %w", err)
	}
	nodes := res.AST.Children
	last := -1
	for i, n := range nodes {
		if strings.EqualFold(n.Value, "from") {
			last = i
		}
	}
	if last < 0 {
		return Truth{}, fmt.Errorf("Dockerfile has no FROM")
	}
	stage := nodes[last+1:]
	want := baseHistory + len(stage)
	if len(cf.History) != want {
		return Truth{}, fmt.Errorf("image has %d history entries, want %d (base %d + %d instructions): cannot align ground truth", len(cf.History), want, baseHistory, len(stage))
	}
	layerOf := make([]int, len(cf.History))
	n := 0
	for i, h := range cf.History {
		layerOf[i] = -1
		if !h.EmptyLayer {
			layerOf[i] = n
			n++
		}
	}
	if n != len(cf.RootFS.DiffIDs) {
		return Truth{}, fmt.Errorf("image has %d non-empty history entries but %d layers", n, len(cf.RootFS.DiffIDs))
	}
	t := Truth{Tags: map[int]string{}}
	for i, node := range stage {
		tag := marker(node.PrevComment)
		if tag == "" {
			continue
		}
		hi := baseHistory + i
		if l := layerOf[hi]; l >= 0 {
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
