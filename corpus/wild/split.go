package wild

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
)

// Splits of the pre-registered evaluation.
const (
	Dev  = "dev"
	Test = "test"
)

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

// Split returns the committed manifest.
func Split() (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(splitJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("wild: split.json: %w", err)
	}
	return m, nil
}

// SplitOf returns the committed split of the subject called name, or ""
// when split.json does not list it.
func SplitOf(name string) string {
	m, err := Split()
	if err != nil {
		return ""
	}
	for _, a := range m.Subjects {
		if a.Name == name {
			return a.Split
		}
	}
	return ""
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
