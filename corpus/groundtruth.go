package corpus

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
	"github.com/strata-sec/strata/internal/layers"
)

// MarkerPrefix starts the comment that marks the next Dockerfile instruction
// as malicious: "# strata:malicious=L8" (the shared Dockerfile model's MarkerPrefix).
const MarkerPrefix = dfile.MarkerPrefix

// Truth is the ground truth of one built image.
type Truth struct {
	// MaliciousLayers are layer indices (0 = bottom) that a malicious
	// instruction produced, ascending.
	MaliciousLayers []int
	// MaliciousConfig lists malicious instructions that produced no layer
	// (ENTRYPOINT, ENV, ...) as their history created_by; an ONBUILD
	// trigger, which BuildKit keeps in the config without a history entry,
	// as its Dockerfile text.
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
	f, err := dfile.Parse(dockerfile)
	if err != nil {
		return Truth{}, err
	}
	// BuildKit records ONBUILD only in the config's OnBuild list, with no
	// history entry (dockerfile2llb's dispatchOnbuild), so triggers are
	// set apart before the instructions are aligned with the history.
	var chain, onbuild []*parser.Node
	for _, n := range f.ChainInstructions() {
		if dfile.Is(n, "onbuild") {
			onbuild = append(onbuild, n)
		} else {
			chain = append(chain, n)
		}
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
		tag := dfile.Marker(node)
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
	for _, n := range onbuild {
		if dfile.Marker(n) != "" {
			t.MaliciousConfig = append(t.MaliciousConfig, strings.TrimSpace(f.Text(n)))
		}
	}
	sort.Ints(t.MaliciousLayers)
	return t, nil
}
