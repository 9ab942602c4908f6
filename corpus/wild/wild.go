package wild

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/benign"
)

// Labels of a subject. Grey subjects (an open-source pool server, a pool
// node) are neither counted as malicious nor as benign; they are reported
// apart.
const (
	Malicious = "malicious"
	Benign    = "benign"
	Grey      = "grey"
)

// Subject is one image of the corpus: a distinct subject, not a variant of
// another one.
type Subject struct {
	// Name is short and unique; the store name is "wild/<Name>".
	Name string
	// Family groups subjects by the technique (malicious) or the kind of
	// software (benign) they model; per-family rates are reported.
	Family string
	// Label is Malicious, Benign or Grey. A malicious subject's Dockerfile
	// marks its malicious instructions (# strata:malicious=TAG); benign and
	// grey ones carry no marker.
	Label string
	// Adjacent marks a benign subject that is mining-adjacent on purpose
	// (blockchain node, wallet, IDS rules, miner killer, ...).
	Adjacent bool
	// Models says which real-world case or public report the subject
	// models; Source is that report's public address.
	Models, Source string
	// From is benign.FromDebian or benign.FromDrupal.
	From string
	// Packages are the Debian packages the image installs (fetched with
	// the host's apt at experiment time, never committed).
	Packages []string
	// Programs are stand-in programs compiled into the build context
	// before the build (see Program).
	Programs []Program
	// Round is the evaluation round the subject was written for: 0 or 1
	// for the first corpus (split into dev and test by split.json); 2 and
	// later for the held-out rounds (all of round N is testN, splitN.json;
	// see ROUND2.md).
	Round int
}

// Program is an inert stand-in compiled on the host into the build
// context: Source is a path under src/ (a .c file compiled with gcc, or a
// directory of Go files built with the go command, stdlib only); Out is the
// path in the context; Defines are -D flags for C (NAME=VALUE).
type Program struct {
	Source  string
	Out     string
	Defines []string
}

//go:embed all:subjects
var subjectsFS embed.FS

//go:embed all:served
var servedFS embed.FS

//go:embed all:src
var srcFS embed.FS

// Subjects returns every subject: malicious, then benign, then grey, each
// in a fixed order.
func Subjects() []Subject {
	var out []Subject
	out = append(out, maliciousSubjects()...)
	out = append(out, benignSubjects()...)
	out = append(out, greySubjects()...)
	out = append(out, round2Subjects()...)
	out = append(out, round3Subjects()...)
	return out
}

// RoundSubjects returns the subjects written for round (1 or 2), in
// Subjects() order.
func RoundSubjects(round int) []Subject {
	var out []Subject
	for _, s := range Subjects() {
		if max(s.Round, 1) == round {
			out = append(out, s)
		}
	}
	return out
}

// Lookup returns the subject called name.
func Lookup(name string) (Subject, bool) {
	for _, s := range Subjects() {
		if s.Name == name {
			return s, true
		}
	}
	return Subject{}, false
}

// Families returns the family names of the subjects with label, sorted.
func Families(label string) []string {
	set := map[string]bool{}
	for _, s := range Subjects() {
		if s.Label == label {
			set[s.Family] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Image is the subject as a buildable image (corpus/benign's machinery:
// templated Dockerfile with {{.ServerURL}} and {{template "dpkg-install" .}},
// context files, offline Debian packages).
func (s Subject) Image() benign.Image {
	tree, err := fs.Sub(subjectsFS, "subjects")
	if err != nil {
		panic(err) // a constant, valid path
	}
	im := benign.Image{Name: s.Name, Description: s.Models, From: s.From, Packages: s.Packages, Tree: tree}
	if len(s.Programs) > 0 {
		progs := s.Programs
		im.Prepare = func(dir string) error { return compileAll(dir, progs) }
	}
	return im
}

// WriteServed writes the files wild images download at build or run time
// into dir/wild; the harness serves dir on loopback.
func WriteServed(dir string) error {
	sub, err := fs.Sub(servedFS, "served")
	if err != nil {
		return err
	}
	return corpus.WriteTree(filepath.Join(dir, "wild"), sub, func(string) os.FileMode { return 0o644 }, benign.SourceDate)
}

// check reports the first inconsistency of the subject list.
func check(subjects []Subject) error {
	seen := map[string]bool{}
	for _, s := range subjects {
		switch {
		case s.Name == "" || s.Family == "":
			return fmt.Errorf("wild: subject %q has no name or family", s.Name)
		case seen[s.Name]:
			return fmt.Errorf("wild: subject %q listed twice", s.Name)
		case s.Label != Malicious && s.Label != Benign && s.Label != Grey:
			return fmt.Errorf("wild: subject %s: label %q", s.Name, s.Label)
		case s.Adjacent && s.Label != Benign:
			return fmt.Errorf("wild: subject %s: only benign subjects are mining-adjacent", s.Name)
		case s.From != benign.FromDebian && s.From != benign.FromDrupal:
			return fmt.Errorf("wild: subject %s: From %q", s.Name, s.From)
		case s.Round < 0 || s.Round > LastRound:
			return fmt.Errorf("wild: subject %s: Round %d (want 1 to %d)", s.Name, s.Round, LastRound)
		}
		seen[s.Name] = true
	}
	return nil
}
