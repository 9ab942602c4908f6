package census

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
)

//go:embed dispositions.tsv
var dispositionsTSV []byte

// Disposition table: what was decided about a census false alarm, by
// detector, image (or "*") and rule.
type DispositionTable map[[3]string]string

// Dispositions reads the committed dispositions.tsv.
func Dispositions() (DispositionTable, error) {
	d := DispositionTable{}
	sc := bufio.NewScanner(bytes.NewReader(dispositionsTSV))
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 4 || !(strings.HasPrefix(f[3], "fixed in ") || strings.HasPrefix(f[3], "accepted: ")) {
			return nil, fmt.Errorf("census: dispositions.tsv:%d: want detector, image (or *), rule, and \"fixed in <version>\" or \"accepted: <why>\"", line)
		}
		d[[3]string{f[0], f[1], f[2]}] = f[3]
	}
	return d, sc.Err()
}

// Of returns the disposition of a false alarm, or "open".
func (d DispositionTable) Of(detector, image, rule string) string {
	if v, ok := d[[3]string{detector, image, rule}]; ok {
		return v
	}
	if v, ok := d[[3]string{detector, "*", rule}]; ok {
		return v
	}
	return "open"
}
