package wild

import (
	"strings"
	"testing"

	"github.com/strata-sec/strata/corpus/benign"
	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// TestEverySubjectIsBuildable checks, without BuildKit, what a build would
// reject late: every subject has a Dockerfile that renders and parses, a
// cited public source, markers that agree with its label (malicious marks
// at least one instruction of the final stage; benign and grey mark none),
// and a base the harness provides.
func TestEverySubjectIsBuildable(t *testing.T) {
	for _, s := range Subjects() {
		t.Run(s.Name, func(t *testing.T) {
			if !strings.HasPrefix(s.Source, "https://") {
				t.Errorf("Source %q: want the https address of the public report or repository it models", s.Source)
			}
			if len(s.Models) < 20 {
				t.Errorf("Models %q: say what real-world case the subject models", s.Models)
			}
			df, err := s.Image().Dockerfile(benign.Options{ServerURL: "http://127.0.0.1:18473"})
			if err != nil {
				t.Fatal(err)
			}
			f, err := dfile.Parse(df)
			if err != nil {
				t.Fatal(err)
			}
			marked := 0
			for _, n := range f.ChainInstructions() {
				if dfile.Marker(n) != "" {
					marked++
				}
			}
			switch {
			case s.Label == Malicious && marked == 0:
				t.Errorf("labelled malicious, but no instruction of the final stage is marked (# %sTAG)", dfile.MarkerPrefix)
			case s.Label != Malicious && marked > 0:
				t.Errorf("labelled %s, but %d instructions are marked malicious", s.Label, marked)
			}
			stages := map[string]bool{}
			for _, st := range f.Stages {
				if !strings.HasPrefix(st.Base, "debian:bookworm") && !stages[st.Base] {
					t.Errorf("FROM %s: wild images build FROM debian:bookworm (the harness's minbase) or an earlier stage", st.Base)
				}
				if st.Name != "" {
					stages[st.Name] = true
				}
			}
			if strings.Contains(string(df), "minergate") || strings.Contains(string(df), "trudly@") {
				t.Error("the paper's sample's indicators belong to experiments 1-3, not to the wild corpus")
			}
		})
	}
}
