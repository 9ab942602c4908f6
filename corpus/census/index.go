package census

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Package is one stanza of a Debian package index (the format of
// `apt-cache dumpavail` and of the Packages files apt keeps): the fields the
// draw and the fetch need.
type Package struct {
	Name          string
	Version       string
	Architecture  string
	Section       string
	Priority      string
	InstalledSize int64 // KiB, as in the index
	Size          int64 // bytes of the .deb
	SHA256        string
	Description   string // first line only
	Depends       []string
}

// ParseIndex reads Packages-format stanzas. Stanzas without a name,
// version or SHA256 are skipped: they cannot be fetched and verified.
func ParseIndex(r io.Reader) ([]Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var (
		out  []Package
		cur  Package
		last string
	)
	flush := func() {
		if cur.Name != "" && cur.Version != "" && cur.SHA256 != "" {
			out = append(out, cur)
		}
		cur, last = Package{}, ""
	}
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if last == "Depends" || last == "Pre-Depends" {
				cur.Depends = append(cur.Depends, depNames(l)...)
			}
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("index line %d: %q is not a field: is this a Packages file?", line, l)
		}
		v = strings.TrimSpace(v)
		last = k
		switch k {
		case "Package":
			cur.Name = v
		case "Version":
			cur.Version = v
		case "Architecture":
			cur.Architecture = v
		case "Section":
			// "contrib/net" -> "net"
			cur.Section = v[strings.LastIndex(v, "/")+1:]
		case "Priority":
			cur.Priority = v
		case "Installed-Size":
			cur.InstalledSize, _ = strconv.ParseInt(v, 10, 64)
		case "Size":
			cur.Size, _ = strconv.ParseInt(v, 10, 64)
		case "SHA256":
			cur.SHA256 = v
		case "Description":
			cur.Description = v
		case "Depends", "Pre-Depends":
			cur.Depends = append(cur.Depends, depNames(v)...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read package index: %w", err)
	}
	flush()
	return out, nil
}

// depNames returns the package names of a Depends value, alternatives
// included, without version constraints or architecture qualifiers.
func depNames(v string) []string {
	var out []string
	for _, alt := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' }) {
		f := strings.Fields(alt)
		if len(f) == 0 {
			continue
		}
		name, _, _ := strings.Cut(f[0], ":")
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}
