package scanreport

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sanitize makes s safe to print on a terminal: C0 controls (tab and
// newline included), DEL, C1 controls and bytes that are not UTF-8 become
// Go-style escapes (\x1b, \u009b, \xff), and so do the Unicode
// bidirectional overrides and isolates that reorder what a reader sees
// (the "Trojan Source" characters, CVE-2021-42574). Escaping ESC and CSI
// defuses every escape sequence: what follows them is plain text. Image
// paths, history and ENTRYPOINT are attacker-controlled; without this, a
// layer could clear the screen or rewrite the verdict line
// (ECMA-48 / ISO 6429 define the control sets).
func Sanitize(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < 0x20 || r == 0x7f || (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// unsafeRune reports C1 controls and bidirectional formatting characters.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || // C1, CSI (U+009B) among them
		(r >= 0x202a && r <= 0x202e) || // LRE, RLE, PDF, LRO, RLO
		(r >= 0x2066 && r <= 0x2069) || // LRI, RLI, FSI, PDI
		r == 0x200e || r == 0x200f || r == 0x061c // LRM, RLM, ALM
}
