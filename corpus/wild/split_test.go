package wild

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite split.json from the draw (only when subjects are added: the split of a listed subject must never change)")

func TestSubjectsConsistent(t *testing.T) {
	if err := check(Subjects()); err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{Malicious, Benign} {
		if n := len(Families(label)); label == Malicious && n < 12 {
			t.Errorf("%d malicious families, want at least 12", n)
		}
	}
	count := map[string]int{}
	adjacent := 0
	perFamily := map[string]int{}
	for _, s := range Subjects() {
		count[s.Label]++
		if s.Adjacent {
			adjacent++
		}
		if s.Label == Malicious {
			perFamily[s.Family]++
		}
	}
	if count[Malicious] < 40 || count[Benign] < 40 {
		t.Errorf("%d malicious and %d benign subjects, want at least 40 of each", count[Malicious], count[Benign])
	}
	if 2*adjacent < count[Benign] {
		t.Errorf("%d of %d benign subjects are mining-adjacent, want at least half", adjacent, count[Benign])
	}
	for f, n := range perFamily {
		if n < 2 {
			t.Errorf("malicious family %s has %d subject, want 2 or more", f, n)
		}
	}
}

// TestSplitIsTheDraw checks that split.json is the seeded draw over the
// subjects: the pre-registered split cannot be edited by hand, and a
// subject cannot be moved between dev and test without this test failing.
func TestSplitIsTheDraw(t *testing.T) {
	want := Draw(SplitSeed, Subjects())
	if *update {
		data, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("split.json", append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := Split()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		t.Fatalf("split.json is not the draw with seed %d over Subjects(); if subjects were added, run go test ./corpus/wild -run TestSplitIsTheDraw -update and check that no listed subject changed split", SplitSeed)
	}
	n := map[string]map[string]int{}
	for _, s := range got.Subjects {
		if n[s.Label] == nil {
			n[s.Label] = map[string]int{}
		}
		n[s.Label][s.Split]++
	}
	for label, c := range n {
		if c[Dev] == 0 || c[Test] == 0 {
			t.Errorf("%s: dev %d, test %d", label, c[Dev], c[Test])
		}
	}
}

func TestDrawStratifies(t *testing.T) {
	m := Draw(1, Subjects())
	fam := map[string]map[string]int{}
	for _, s := range m.Subjects {
		k := s.Label + "/" + s.Family
		if fam[k] == nil {
			fam[k] = map[string]int{}
		}
		fam[k][s.Split]++
	}
	for k, c := range fam {
		if d := c[Dev] - c[Test]; d < -1 || d > 1 {
			t.Errorf("family %s: dev %d, test %d: the draw must alternate within a family", k, c[Dev], c[Test])
		}
	}
	if m2 := Draw(1, Subjects()); !equalManifest(m, m2) {
		t.Error("the draw is not deterministic")
	}
}

func equalManifest(a, b Manifest) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
