package inventory

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

//go:embed data/packages.tsv
var packagesTSV []byte

// Ecosystems a list entry can name.
const (
	EcoDeb    = "deb"
	EcoAPK    = "apk"
	EcoNPM    = "npm"
	EcoPyPI   = "pypi"
	EcoGo     = "go"
	EcoMaven  = "maven"
	EcoBinary = "binary"
)

var ecosystems = map[string]bool{EcoDeb: true, EcoAPK: true, EcoNPM: true, EcoPyPI: true, EcoGo: true, EcoMaven: true, EcoBinary: true}

// AnyVersion marks an entry that matches every version of the package: a
// package that is a miner by purpose.
const AnyVersion = "any"

// Entry is one known-bad package.
type Entry struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	// Versions are the affected versions; nil means any version.
	Versions []string `json:"versions,omitempty"`
	Kind     string   `json:"kind"`
	Source   string   `json:"source"`
	Note     string   `json:"note,omitempty"`
}

// List is a parsed package list, indexed by ecosystem and normalised name.
type List struct {
	Entries []Entry
	byKey   map[string][]int
}

// DefaultList returns the committed list (data/packages.tsv).
func DefaultList() *List {
	l, err := ParseList(packagesTSV)
	if err != nil {
		panic("inventory: committed list: " + err.Error())
	}
	return l
}

// ParseList reads a tab-separated list: ecosystem, name, versions ("any" or
// comma-separated exact versions), kind, source URL, note. Blank lines and
// lines starting with # are skipped.
func ParseList(b []byte) (*List, error) {
	l := &List{byKey: map[string][]int{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 5 || len(f) > 6 {
			return nil, fmt.Errorf("line %d: want 5 or 6 tab-separated fields (ecosystem, name, versions, kind, source[, note]), got %d", n, len(f))
		}
		e := Entry{Ecosystem: f[0], Name: f[1], Kind: f[3], Source: f[4]}
		if len(f) == 6 {
			e.Note = f[5]
		}
		switch {
		case !ecosystems[e.Ecosystem]:
			return nil, fmt.Errorf("line %d: unknown ecosystem %q: use one of %s", n, e.Ecosystem, strings.Join(sortedKeys(ecosystems), ", "))
		case e.Name == "":
			return nil, fmt.Errorf("line %d: empty name", n)
		case e.Kind != "miner" && e.Kind != "malicious":
			return nil, fmt.Errorf("line %d: kind %q: use miner or malicious", n, e.Kind)
		case !strings.HasPrefix(e.Source, "https://"):
			return nil, fmt.Errorf("line %d: source %q: give the public https URL the entry comes from", n, e.Source)
		}
		if f[2] != AnyVersion {
			for _, v := range strings.Split(f[2], ",") {
				if v = strings.TrimSpace(v); v == "" {
					return nil, fmt.Errorf("line %d: empty version in %q", n, f[2])
				}
				e.Versions = append(e.Versions, strings.TrimSpace(v))
			}
		}
		k := key(e.Ecosystem, e.Name)
		l.byKey[k] = append(l.byKey[k], len(l.Entries))
		l.Entries = append(l.Entries, e)
	}
	return l, sc.Err()
}

// Match returns the entry pkg matches, if any: same ecosystem, same
// normalised name, and an affected version (or an "any" entry).
func (l *List) Match(ecosystem, name, version string) (Entry, bool) {
	for _, i := range l.byKey[key(ecosystem, name)] {
		e := l.Entries[i]
		if e.Versions == nil {
			return e, true
		}
		for _, v := range e.Versions {
			if v == version {
				return e, true
			}
		}
	}
	return Entry{}, false
}

var pypiSep = regexp.MustCompile(`[-_.]+`)

// key normalises a name the way its ecosystem compares names: PyPI by PEP
// 503 (case-insensitive, runs of -_. equal), Debian, Alpine and npm
// lowercase, Go module paths and Maven coordinates exactly.
func key(eco, name string) string {
	switch eco {
	case EcoPyPI:
		name = pypiSep.ReplaceAllString(strings.ToLower(name), "-")
	case EcoDeb, EcoAPK, EcoNPM, EcoBinary:
		name = strings.ToLower(name)
	}
	return eco + "\x00" + name
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
