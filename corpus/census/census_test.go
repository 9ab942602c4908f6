package census

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// TestSplitIsTheDraw fails when a committed list stops being the draw: a
// split edited by hand, an entry added or removed in one split only, an
// npm list that is no longer the top of the ranking in ranking order.
func TestSplitIsTheDraw(t *testing.T) {
	for _, eco := range listsUnderTest {
		t.Run(eco, func(t *testing.T) {
			got, err := List(eco)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]Entry(nil), got...)
			for i := range want {
				want[i].Split = ""
			}
			AssignSplit(Seed, want)
			for i := range got {
				if got[i].Split != want[i].Split {
					t.Errorf("%s %s: split %s, the draw says %s (regenerate with strata census draw/pin)", eco, got[i].Name, got[i].Split, want[i].Split)
				}
			}
			dev := 0
			for _, e := range got {
				if e.Split == Dev {
					dev++
				}
			}
			if d := 2*dev - len(got); d < -len(got)/20 || d > len(got)/20 {
				t.Errorf("%s: %d dev of %d: not half", eco, dev, len(got))
			}
		})
	}
}

// TestListsAreTheDraw checks what can be checked without the index: sizes
// of the strata, the exclusions, Python apart from Debian.
func TestListsAreTheDraw(t *testing.T) {
	deb, err := List(Debian)
	if err != nil {
		t.Fatal(err)
	}
	py, err := List(Python)
	if err != nil {
		t.Fatal(err)
	}
	drawn := 0
	for _, e := range deb {
		if e.Stratum == Drawn {
			drawn++
		}
		if IsPython(e.Name) {
			t.Errorf("debian list holds %s", e.Name)
		}
	}
	if drawn != DebianDraw || len(py) != PythonDraw {
		t.Errorf("drawn %d Debian and %d Python packages, want %d and %d", drawn, len(py), DebianDraw, PythonDraw)
	}
	for _, e := range append(deb, py...) {
		p := Package{Name: e.Name, Version: e.Version, Architecture: e.Architecture, Section: e.Section, InstalledSize: e.InstalledSize, SHA256: e.SHA256}
		if r := exclusion(p); r != "" {
			t.Errorf("%s is listed but excluded: %s", e.Name, r)
		}
		if len(e.SHA256) != 64 || e.Size <= 0 {
			t.Errorf("%s: no SHA256 or size to verify the download with", e.Name)
		}
	}
	for _, e := range py {
		if !IsPython(e.Name) {
			t.Errorf("python list holds %s", e.Name)
		}
	}
}

// TestDrawReproduces re-draws from the machine's index when it is the very
// index of the draw (draw.txt records its sha256). It fails when apt
// cannot give an index at all. After an apt-get update the index differs:
// then it says so, counts the pinned versions the new index no longer
// offers (each one a download `make census` cannot make), and skips.
func TestDrawReproduces(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running apt-cache dumpavail")
	}
	src, err := exec.Command("apt-cache", "dumpavail").Output()
	if err != nil {
		t.Fatalf("apt-cache dumpavail: %v: the census needs the machine's apt (Debian bookworm) and its package lists: run `apt-get update`", err)
	}
	stats, err := os.ReadFile("draw.txt")
	if err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("sha256 %x", sha256.Sum256(src))
	if !bytes.Contains(stats, []byte(sum)) {
		pkgs, err := ParseIndex(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) == 0 {
			t.Fatal("apt-cache dumpavail gave an empty index: the machine has no package lists, so `make census` can download nothing: run `apt-get update`")
		}
		gone := goneFromIndex(t, pkgs)
		msg := fmt.Sprintf("the machine's package index (%s, %d packages) is not the index of the draw (draw.txt), so the draw cannot be compared; "+
			"%d pinned Debian/Python versions are not in it", sum, len(pkgs), len(gone))
		if len(gone) > 0 {
			msg += fmt.Sprintf(" (first: %s): `make census` cannot download those; %s", strings.Join(gone[:min(5, len(gone))], ", "), goneHelp)
		}
		t.Log(msg)
		t.Skip(msg)
	}
	pkgs, err := ParseIndex(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	deb, py, _ := Draw(Seed, pkgs)
	for _, c := range []struct {
		eco  string
		drew []Entry
	}{{Debian, deb}, {Python, py}} {
		got, err := List(c.eco)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, trimForList(c.drew)) {
			t.Errorf("%s.tsv is not the draw from this index: regenerate with strata census draw", c.eco)
		}
	}
}

// goneFromIndex lists the Debian and Python entries whose NAME=VERSION
// with its SHA256 the index does not hold.
func goneFromIndex(t *testing.T, pkgs []Package) []string {
	t.Helper()
	have := map[string]bool{}
	for _, p := range pkgs {
		have[p.Name+"="+p.Version+" "+p.SHA256] = true
	}
	var gone []string
	for _, eco := range []string{Debian, Python} {
		es, err := List(eco)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if !have[e.Name+"="+e.Version+" "+e.SHA256] {
				gone = append(gone, e.Name+"="+e.Version)
			}
		}
	}
	return gone
}

// trimForList keeps the fields a list stores.
func trimForList(es []Entry) []Entry {
	var b bytes.Buffer
	if len(es) == 0 {
		return nil
	}
	if err := WriteList(&b, es[0].Ecosystem, es); err != nil {
		panic(err)
	}
	out, err := ReadList(&b, es[0].Ecosystem)
	if err != nil {
		panic(err)
	}
	return out
}

func TestDraw(t *testing.T) {
	var idx []Package
	for i := range 6000 {
		sec := []string{"utils", "doc", "libs", "net"}[i%4]
		idx = append(idx, Package{Name: fmt.Sprintf("pkg%04d", i), Version: "1", Architecture: "amd64", Section: sec,
			Priority: "optional", InstalledSize: 10, Size: 1, SHA256: strings.Repeat("a", 64)})
	}
	for i := range 1000 {
		idx = append(idx, Package{Name: fmt.Sprintf("python3-m%04d", i), Version: "1", Architecture: "all", Section: "python",
			Priority: "optional", InstalledSize: 10, Size: 1, SHA256: strings.Repeat("b", 64)})
	}
	idx[0].Priority = "required"
	idx[1].InstalledSize = MaxInstalledSizeKiB + 1
	idx[2].Description = "transitional package"
	idx[3].Name = "pkg-dbgsym"
	idx[5].Architecture = "i386"
	for i := 10; i < 20; i++ {
		idx[i].Depends = []string{"pkg0100"}
	}
	deb, py, st := Draw(Seed, idx)
	if st.Excluded[ExclSize] != 1 || st.Excluded[ExclTransitional] != 1 || st.Excluded[ExclDbgsym] != 1 || st.Excluded[ExclArch] != 1 {
		t.Errorf("exclusions %v", st.Excluded)
	}
	if len(py) != PythonDraw || len(deb) != DebianDraw+st.Priority+st.ReverseTop {
		t.Errorf("%d Debian, %d Python", len(deb), len(py))
	}
	perSection := map[string]int{}
	ranked := map[string]bool{}
	for _, e := range deb {
		if e.Stratum == Ranked {
			ranked[e.Name] = true
		} else {
			perSection[e.Section]++
		}
	}
	if !ranked["pkg0000"] || !ranked["pkg0100"] {
		t.Errorf("pkg0000 (required) and pkg0100 (most reverse dependencies) are not ranked")
	}
	// weights 4 (utils, net), 2 (libs), 1 (doc) over equal pools
	if !(perSection["utils"] > perSection["libs"] && perSection["libs"] > perSection["doc"]) {
		t.Errorf("draw ignores the weights: %v", perSection)
	}
	// the draw does not depend on the index's order
	rev := append([]Package(nil), idx...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	deb2, py2, _ := Draw(Seed, rev)
	if !reflect.DeepEqual(deb, deb2) || !reflect.DeepEqual(py, py2) {
		t.Error("the draw depends on the order of the index")
	}
	deb3, _, _ := Draw(Seed+1, idx)
	if reflect.DeepEqual(deb, deb3) {
		t.Error("the draw does not depend on the seed")
	}
}

func TestParseIndex(t *testing.T) {
	const idx = "Package: a\nVersion: 1.0\nArchitecture: amd64\nSection: contrib/net\nInstalled-Size: 12\n" +
		"Depends: libc6 (>= 2.34), b | c:any\nDescription: an a\n more\nSHA256: ff\nSize: 3\n\n" +
		"Package: nohash\nVersion: 1\n\n"
	got, err := ParseIndex(strings.NewReader(idx))
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{{Name: "a", Version: "1.0", Architecture: "amd64", Section: "net", InstalledSize: 12, Size: 3, SHA256: "ff",
		Description: "an a", Depends: []string{"libc6", "b", "c"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if _, err := ParseIndex(strings.NewReader("not a field\n")); err == nil {
		t.Error("no error on a line that is not a field")
	}
}
