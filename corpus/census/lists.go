package census

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The committed lists: the pre-registration.
var (
	//go:embed debian.tsv
	debianTSV []byte
	//go:embed python.tsv
	pythonTSV []byte
	//go:embed npm.tsv
	npmTSV []byte
)

// List files, relative to this package's directory.
const (
	DebianFile     = "debian.tsv"
	PythonFile     = "python.tsv"
	NPMFile        = "npm.tsv"
	NPMSkippedFile = "npm-skipped.tsv"
)

// columns of each list, in file order.
var columns = map[string][]string{
	Debian: {"name", "version", "architecture", "size", "sha256", "section", "installed_size_kib", "stratum", "split"},
	Python: {"name", "version", "architecture", "size", "sha256", "section", "installed_size_kib", "stratum", "split"},
	NPM:    {"rank", "name", "version", "integrity", "split"},
}

// List returns the committed list of an ecosystem (debian, python, npm).
func List(eco string) ([]Entry, error) {
	var b []byte
	switch eco {
	case Debian:
		b = debianTSV
	case Python:
		b = pythonTSV
	case NPM:
		b = npmTSV
	default:
		return nil, fmt.Errorf("census: no list for ecosystem %q (lists: debian, python, npm)", eco)
	}
	es, err := ReadList(bytes.NewReader(b), eco)
	if err != nil {
		return nil, fmt.Errorf("census: %s.tsv: %w", eco, err)
	}
	return es, nil
}

// WriteList writes entries as a TSV list with a header line.
func WriteList(w io.Writer, eco string, es []Entry) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n", strings.Join(columns[eco], "\t"))
	for _, e := range es {
		var f []string
		if eco == NPM {
			f = []string{strconv.Itoa(e.Rank), e.Name, e.Version, e.Integrity, e.Split}
		} else {
			f = []string{e.Name, e.Version, e.Architecture, strconv.FormatInt(e.Size, 10), e.SHA256, e.Section,
				strconv.FormatInt(e.InstalledSize, 10), e.Stratum, e.Split}
		}
		fmt.Fprintln(bw, strings.Join(f, "\t"))
	}
	return bw.Flush()
}

// ReadList parses a list WriteList wrote.
func ReadList(r io.Reader, eco string) ([]Entry, error) {
	cols, ok := columns[eco]
	if !ok {
		return nil, fmt.Errorf("no list format for ecosystem %q", eco)
	}
	sc := bufio.NewScanner(r)
	var out []Entry
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != len(cols) {
			return nil, fmt.Errorf("line %d: %d fields, want %d (%s)", line, len(f), len(cols), strings.Join(cols, ", "))
		}
		e := Entry{Ecosystem: eco}
		var err error
		if eco == NPM {
			if e.Rank, err = strconv.Atoi(f[0]); err != nil {
				return nil, fmt.Errorf("line %d: rank: %w", line, err)
			}
			e.Name, e.Version, e.Integrity, e.Split, e.Stratum = f[1], f[2], f[3], f[4], Top
		} else {
			e.Name, e.Version, e.Architecture, e.SHA256, e.Section, e.Stratum, e.Split = f[0], f[1], f[2], f[4], f[5], f[7], f[8]
			if e.Size, err = strconv.ParseInt(f[3], 10, 64); err != nil {
				return nil, fmt.Errorf("line %d: size: %w", line, err)
			}
			if e.InstalledSize, err = strconv.ParseInt(f[6], 10, 64); err != nil {
				return nil, fmt.Errorf("line %d: installed size: %w", line, err)
			}
		}
		if e.Split != Dev && e.Split != Test {
			return nil, fmt.Errorf("line %d: split %q is neither dev nor test", line, e.Split)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
