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
	for _, s := range RoundSubjects(1) {
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
	want := Draw(SplitSeed, RoundSubjects(1))
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

// TestRoundSplits checks that each held-out round's manifest
// (splitN.json) lists exactly that round's subjects, each held out as
// testN, and that no subject is in two manifests. -update rewrites them
// (only when a round's subjects are added, before any of them is scanned).
func TestRoundSplits(t *testing.T) {
	seen := map[string]string{}
	one, err := Split()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range one.Subjects {
		seen[a.Name] = "split.json"
	}
	for r := 2; r <= LastRound; r++ {
		want := RoundManifest(r, RoundSubjects(r))
		if *update {
			data, err := json.MarshalIndent(want, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(RoundSplitFile(r), append(data, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := RoundManifestCommitted(r)
		if err != nil {
			t.Fatal(err)
		}
		if !equalManifest(got, want) {
			t.Fatalf("%s does not list exactly the round-%d subjects as %s; if subjects were added, run go test ./corpus/wild -run TestRoundSplits -update", RoundSplitFile(r), r, RoundSplit(r))
		}
		for _, a := range got.Subjects {
			if f, ok := seen[a.Name]; ok {
				t.Errorf("%s is in %s and %s", a.Name, f, RoundSplitFile(r))
			}
			seen[a.Name] = RoundSplitFile(r)
		}
	}
}

// TestHeldOutRoundsAreEvaluations checks that each held-out round, once
// written, is large and varied enough to report: at least 20 malicious
// subjects in at least 10 families, at least 20 benign ones, half of them
// mining-adjacent.
func TestHeldOutRoundsAreEvaluations(t *testing.T) {
	for r := 2; r <= LastRound; r++ {
		subjects := RoundSubjects(r)
		if len(subjects) == 0 {
			continue // not written yet
		}
		count := map[string]int{}
		families := map[string]bool{}
		adjacent := 0
		for _, s := range subjects {
			count[s.Label]++
			if s.Label == Malicious {
				families[s.Family] = true
			}
			if s.Adjacent {
				adjacent++
			}
		}
		if count[Malicious] < 20 || count[Benign] < 20 {
			t.Errorf("round %d: %d malicious and %d benign subjects, want at least 20 of each", r, count[Malicious], count[Benign])
		}
		if len(families) < 10 {
			t.Errorf("round %d: %d malicious families, want at least 10", r, len(families))
		}
		if 2*adjacent < count[Benign] {
			t.Errorf("round %d: %d of %d benign subjects are mining-adjacent, want at least half", r, adjacent, count[Benign])
		}
	}
}

func TestDrawStratifies(t *testing.T) {
	m := Draw(1, RoundSubjects(1))
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
	if m2 := Draw(1, RoundSubjects(1)); !equalManifest(m, m2) {
		t.Error("the draw is not deterministic")
	}
}

func equalManifest(a, b Manifest) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
