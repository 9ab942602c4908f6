package wild

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// Splits of the pre-registered evaluation. Round 1's subjects are drawn
// into Dev and Test (split.json); every later round is held out entirely:
// round N's subjects are all "testN" (splitN.json).
const (
	Dev   = "dev"
	Test  = "test"
	Test2 = "test2"
	Test3 = "test3"
)

// Splits are every split, tuning first, then the held-out ones in the
// order they were written.
var Splits = []string{Dev, Test, Test2, Test3}

// LastRound is the latest round of the corpus.
const LastRound = 3

// roundMethods describe the held-out rounds' manifests.
var roundMethods = map[int]string{
	2: "round 2 is held out entirely: every subject written after hierarchical 0.4.1 was frozen is test2; " +
		"no rule, weight or threshold may be chosen on it, and each detector version is scanned on it once",
	3: "round 3 is held out entirely: every subject written after round 2 was scanned (hierarchical 0.4.1 and 0.5.0) is test3; " +
		"no rule, weight or threshold may be chosen on it, and each detector version is scanned on it once",
}

// RoundSplit is the split of a held-out round's subjects ("test2" ...).
func RoundSplit(round int) string { return fmt.Sprintf("test%d", round) }

// SplitSeed seeds the draw that fixed split.json.
const SplitSeed = 20261203

// Manifest is the committed dev/test split (split.json): fixed before any
// detector change was evaluated on test. Rules, weights and thresholds
// are chosen on dev; test numbers are reported once per detector version.
type Manifest struct {
	Schema int    `json:"schema"`
	Seed   int64  `json:"seed"`
	Method string `json:"method"`
	// Subjects in Subjects() order.
	Subjects []Assignment `json:"subjects"`
}

// Assignment is one subject's split.
type Assignment struct {
	Name   string `json:"name"`
	Label  string `json:"label"`
	Family string `json:"family"`
	Split  string `json:"split"`
}

// drawMethod describes Draw for the manifest.
const drawMethod = "stratified by label and family: within each family, subjects ordered by sha256(seed, name); " +
	"alternate dev/test starting with the side given by sha256(seed, family) mod 2"

//go:embed split.json
var splitJSON []byte

//go:embed split2.json split3.json
var roundFS embed.FS

// Split returns the committed round-1 manifest (split.json).
func Split() (Manifest, error) { return decodeManifest("split.json", splitJSON) }

// RoundSplitFile is the manifest file of a held-out round.
func RoundSplitFile(round int) string { return fmt.Sprintf("split%d.json", round) }

// RoundManifestCommitted returns the committed manifest of a held-out round
// (2 ... LastRound).
func RoundManifestCommitted(round int) (Manifest, error) {
	b, err := roundFS.ReadFile(RoundSplitFile(round))
	if err != nil {
		return Manifest{}, fmt.Errorf("wild: round %d: %w", round, err)
	}
	return decodeManifest(RoundSplitFile(round), b)
}

func decodeManifest(name string, data []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("wild: %s: %w", name, err)
	}
	return m, nil
}

// Draw assigns subjects to dev and test (see drawMethod). It depends on
// the seed, the names and the families only, so the committed manifest can
// be re-derived and checked.
func Draw(seed int64, subjects []Subject) Manifest {
	h := func(s string) uint64 {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(seed))
		sum := sha256.Sum256(append(b[:], s...))
		return binary.BigEndian.Uint64(sum[:8])
	}
	byFamily := map[string][]Subject{}
	var keys []string
	for _, s := range subjects {
		k := s.Label + "/" + s.Family
		if _, ok := byFamily[k]; !ok {
			keys = append(keys, k)
		}
		byFamily[k] = append(byFamily[k], s)
	}
	split := map[string]string{}
	for _, k := range keys {
		fam := byFamily[k]
		sort.Slice(fam, func(i, j int) bool { return h(fam[i].Name) < h(fam[j].Name) })
		start := int(h("family:"+k) % 2)
		for i, s := range fam {
			if (i+start)%2 == 0 {
				split[s.Name] = Dev
			} else {
				split[s.Name] = Test
			}
		}
	}
	m := Manifest{Schema: 1, Seed: seed, Method: drawMethod}
	for _, s := range subjects {
		m.Subjects = append(m.Subjects, Assignment{Name: s.Name, Label: s.Label, Family: s.Family, Split: split[s.Name]})
	}
	return m
}

// SplitOf returns the committed split of the subject called name, or ""
// when no manifest lists it.
func SplitOf(name string) string { return committedSplits()[name] }

// committedSplits maps every subject the committed manifests list to its
// split; the manifests are embedded, so they are decoded once.
var committedSplits = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	add := func(m Manifest, err error) {
		if err != nil {
			return
		}
		for _, a := range m.Subjects {
			out[a.Name] = a.Split
		}
	}
	add(Split())
	for r := 2; r <= LastRound; r++ {
		add(RoundManifestCommitted(r))
	}
	return out
})

// RoundManifest is what a held-out round's manifest must hold for its
// subjects: every one held out as RoundSplit(round).
func RoundManifest(round int, subjects []Subject) Manifest {
	m := Manifest{Schema: 1, Method: roundMethods[round], Subjects: []Assignment{}}
	for _, s := range subjects {
		m.Subjects = append(m.Subjects, Assignment{Name: s.Name, Label: s.Label, Family: s.Family, Split: RoundSplit(round)})
	}
	return m
}
