package census

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Ecosystems of the census, in report order. Ordinary is the stratum of
// the 24 images the census held before issue #18 (built with BuildKit by
// corpus/benign); it was looked at while rules were written, so it is dev
// only.
const (
	Debian   = "debian"
	Python   = "python"
	NPM      = "npm"
	Ordinary = "ordinary"
)

// Ecosystems lists the ecosystems in report order.
var Ecosystems = []string{Debian, Python, NPM, Ordinary}

// Splits of the pre-registered evaluation.
const (
	Dev  = "dev"
	Test = "test"
)

// Strata of the Debian list.
const (
	// Ranked packages are in the list for being widely installed (the
	// offline proxy for popularity: Priority required/important/standard
	// and the most reverse dependencies), not by chance.
	Ranked = "ranked"
	// Drawn packages come from the weighted random draw.
	Drawn = "draw"
	// Top is the stratum of the npm list: the top of a popularity ranking.
	Top = "top"
)

// Seed seeds the draw and the split. It was fixed, with the lists, before
// any census image was scanned.
const Seed = 20261218

// The sizes and limits of the draw (see README.md).
const (
	DebianDraw = 1500
	PythonDraw = 750
	// TopReverseDeps is how many packages with the most reverse
	// dependencies join the ranked stratum.
	TopReverseDeps = 200
	// MaxInstalledSizeKiB caps a package's Installed-Size (150 MiB): a
	// census image is the base plus the package, and the store must hold
	// thousands of them.
	MaxInstalledSizeKiB = 150 * 1024
	// NPMTop is how many names of the popularity ranking are pinned; the
	// ones that fail to install are listed in npm-skipped.tsv.
	NPMTop = 800
)

// sectionWeights weights the draw toward sections whose packages carry
// executables and scripts (the index has no file lists). Sections not
// listed weigh DefaultWeight.
var sectionWeights = map[string]float64{
	// executables and scripts
	"admin": 4, "utils": 4, "net": 4, "web": 4, "httpd": 4, "database": 4,
	"devel": 4, "shells": 4, "interpreters": 4, "perl": 4, "ruby": 4,
	"php": 4, "java": 4, "javascript": 4, "mail": 4, "science": 4,
	"games": 4, "vcs": 4, "editors": 4, "text": 4, "comm": 4, "golang": 4,
	"rust": 4, "math": 4, "sound": 4, "video": 4, "graphics": 4,
	"electronics": 4, "hamradio": 4, "news": 4, "embedded": 4,
	// mostly data, headers, translations, debug symbols
	"doc": 1, "fonts": 1, "localization": 1, "debug": 1, "oldlibs": 1,
	"libdevel": 1,
}

// DefaultWeight is the weight of a section sectionWeights does not list
// (libs, misc, x11, the desktop and language-library sections, ...).
const DefaultWeight = 2

// SectionWeight is the draw weight of a Debian section.
func SectionWeight(section string) float64 {
	if w, ok := sectionWeights[section]; ok {
		return w
	}
	return DefaultWeight
}

// Entry is one line of a committed list: one census subject.
type Entry struct {
	Ecosystem    string
	Name         string
	Version      string
	Architecture string // Debian and Python
	Size         int64  // .deb size in bytes (Debian and Python)
	SHA256       string // of the .deb (Debian and Python)
	Section      string // Debian and Python
	// InstalledSize is the index's Installed-Size in KiB.
	InstalledSize int64
	Stratum       string
	Rank          int    // npm: 1-based position in the ranking
	Integrity     string // npm: the lockfile's integrity (sha512-...)
	Split         string
}

// Exclusion reasons of the Debian draw, in README order.
const (
	ExclArch         = "architecture neither amd64 nor all"
	ExclDbgsym       = "debug symbols (-dbgsym, -dbg)"
	ExclDoc          = "python3-*-doc"
	ExclTransitional = "transitional or dummy package"
	ExclMeta         = "metapackage or task (no files of its own)"
	ExclSize         = "Installed-Size above the cap"
)

// exclusion says why p cannot be a census subject, or "".
func exclusion(p Package) string {
	switch {
	case p.Architecture != "amd64" && p.Architecture != "all":
		return ExclArch
	case strings.HasSuffix(p.Name, "-dbgsym"), strings.HasSuffix(p.Name, "-dbg"):
		return ExclDbgsym
	case strings.HasPrefix(p.Name, "python3-") && strings.HasSuffix(p.Name, "-doc"):
		return ExclDoc
	case transitional(p.Description):
		return ExclTransitional
	case p.Section == "metapackages" || p.Section == "tasks":
		return ExclMeta
	case p.InstalledSize > MaxInstalledSizeKiB:
		return ExclSize
	}
	return ""
}

func transitional(desc string) bool {
	d := strings.ToLower(desc)
	return strings.Contains(d, "transitional") || strings.Contains(d, "dummy package")
}

// IsPython reports whether a Debian package belongs to the Python
// ecosystem of the census.
func IsPython(name string) bool { return strings.HasPrefix(name, "python3-") }

// DrawStats counts what the draw saw and excluded, for the README.
type DrawStats struct {
	Index      int            // stanzas in the index (distinct names)
	Excluded   map[string]int // reason -> packages
	Eligible   int            // Debian, not python3-*
	EligiblePy int
	Priority   int // ranked for their Priority
	ReverseTop int // ranked for their reverse dependencies (not already by Priority)
}

// Draw makes the Debian and Python lists from a package index: the ranked
// stratum (Priority required/important/standard and the TopReverseDeps
// packages with most reverse dependencies), a weighted draw of DebianDraw
// more (weights: SectionWeight), and a uniform draw of PythonDraw
// python3-* packages; then the split. It depends on the seed and the
// index only, and the index's stanza order does not matter.
func Draw(seed int64, index []Package) (debian, python []Entry, st DrawStats) {
	st.Excluded = map[string]int{}
	byName := map[string]Package{}
	var names []string
	for _, p := range index {
		if _, dup := byName[p.Name]; dup {
			continue // apt's candidate comes first in dumpavail
		}
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	sort.Strings(names)
	st.Index = len(names)
	revdeps := map[string]map[string]bool{}
	for _, n := range names {
		for _, d := range byName[n].Depends {
			if d == n {
				continue
			}
			if revdeps[d] == nil {
				revdeps[d] = map[string]bool{}
			}
			revdeps[d][n] = true
		}
	}
	var deb, py []string
	for _, n := range names {
		if r := exclusion(byName[n]); r != "" {
			st.Excluded[r]++
			continue
		}
		if IsPython(n) {
			py = append(py, n)
		} else {
			deb = append(deb, n)
		}
	}
	st.Eligible, st.EligiblePy = len(deb), len(py)
	ranked := map[string]bool{}
	for _, n := range deb {
		switch byName[n].Priority {
		case "required", "important", "standard":
			ranked[n] = true
			st.Priority++
		}
	}
	byRev := append([]string(nil), deb...)
	sort.SliceStable(byRev, func(i, j int) bool { return len(revdeps[byRev[i]]) > len(revdeps[byRev[j]]) })
	for _, n := range byRev[:min(TopReverseDeps, len(byRev))] {
		if !ranked[n] {
			ranked[n] = true
			st.ReverseTop++
		}
	}
	var pool []string
	for _, n := range deb {
		if !ranked[n] {
			pool = append(pool, n)
		}
	}
	entry := func(eco, n, stratum string) Entry {
		p := byName[n]
		return Entry{Ecosystem: eco, Name: n, Version: p.Version, Architecture: p.Architecture, Size: p.Size,
			SHA256: p.SHA256, Section: p.Section, InstalledSize: p.InstalledSize, Stratum: stratum}
	}
	for _, n := range names {
		if ranked[n] {
			debian = append(debian, entry(Debian, n, Ranked))
		}
	}
	for _, n := range weightedDraw(seed, "debian", pool, DebianDraw, func(n string) float64 { return SectionWeight(byName[n].Section) }) {
		debian = append(debian, entry(Debian, n, Drawn))
	}
	for _, n := range weightedDraw(seed, "python", py, PythonDraw, func(string) float64 { return 1 }) {
		python = append(python, entry(Python, n, Drawn))
	}
	sortByName(debian)
	sortByName(python)
	AssignSplit(seed, debian)
	AssignSplit(seed, python)
	return debian, python, st
}

func sortByName(es []Entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
}

// weightedDraw draws k names without replacement, each with probability
// proportional to its weight (Efraimidis and Spirakis, "Weighted random
// sampling with a reservoir", 2006: the k largest keys u^(1/w)), with u
// from a hash of the seed and the name so the draw does not depend on the
// order of names.
func weightedDraw(seed int64, tag string, names []string, k int, weight func(string) float64) []string {
	type keyed struct {
		name string
		key  float64
	}
	ks := make([]keyed, len(names))
	for i, n := range names {
		u := (float64(hash(seed, tag, n)>>11) + 0.5) / (1 << 53)
		ks[i] = keyed{n, math.Log(u) / weight(n)}
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].key != ks[j].key {
			return ks[i].key > ks[j].key
		}
		return ks[i].name < ks[j].name
	})
	out := make([]string, 0, k)
	for _, e := range ks[:min(k, len(ks))] {
		out = append(out, e.name)
	}
	return out
}

// hash is the one source of randomness: sha256 of the seed and the parts.
func hash(seed int64, parts ...string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return binary.BigEndian.Uint64(h.Sum(nil)[:8])
}

// SplitMethod describes AssignSplit for the README and the test.
const SplitMethod = "stratified: within each stratum (Debian and Python: stratum and section; npm: rank band of 100), " +
	"entries ordered by sha256(seed, name); alternate dev/test starting with the side given by sha256(seed, stratum) mod 2"

// stratumOf is the split stratum of an entry.
func stratumOf(e Entry) string {
	if e.Ecosystem == NPM {
		return "rank-band-" + strconv.Itoa((e.Rank-1)/100)
	}
	return e.Stratum + "/" + e.Section
}

// AssignSplit sets Split on every entry (see SplitMethod). It depends on
// the seed, the names and the strata only.
func AssignSplit(seed int64, es []Entry) {
	groups := map[string][]int{}
	var keys []string
	for i, e := range es {
		s := stratumOf(e)
		if _, ok := groups[s]; !ok {
			keys = append(keys, s)
		}
		groups[s] = append(groups[s], i)
	}
	for _, s := range keys {
		idx := groups[s]
		sort.Slice(idx, func(a, b int) bool {
			ha, hb := hash(seed, "split", es[idx[a]].Name), hash(seed, "split", es[idx[b]].Name)
			if ha != hb {
				return ha < hb
			}
			return es[idx[a]].Name < es[idx[b]].Name
		})
		side := hash(seed, "stratum", s) % 2
		for j, i := range idx {
			if uint64(j)%2 == side {
				es[i].Split = Dev
			} else {
				es[i].Split = Test
			}
		}
	}
}
