package hierarchical

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Base64-encoded indicators. Droppers hide pool URLs and miner command lines
// in base64 (an ENV value, an ENTRYPOINT argument, a literal in a script that
// is decoded at run time; Aqua Security and Trend Micro reports on the
// Kinsing droppers). Base64 literals in script text,
// RUN commands, ENTRYPOINT/CMD arguments and ENV values are decoded
// (bounded) and, when the decoded text is printable and carries a network
// indicator (stratum URL, pool domain, miner repository, miner options), it
// is analysed like the plain text would be: the same rules fire, with
// evidence "base64-decoded: ...". Text files that are not scripts are not
// searched (JavaScript bundles carry megabytes of base64 images).

const (
	b64MinLen      = 20      // shortest literal considered (encodes 15 bytes)
	b64MaxLen      = 1 << 20 // longest literal decoded
	b64MaxLiterals = 64      // literals decoded per text
	b64MaxDecoded  = 1 << 20 // decoded bytes per text
	b64MaxDepth    = 2       // base64 inside base64
)

var b64Table = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
	}
	return
}()

// base64Literals returns the runs of base64 characters (with optional "="
// padding) of at least b64MinLen bytes in s.
func base64Literals(s string) []string {
	var out []string
	i := 0
	for i+b64MinLen <= len(s) && len(out) < b64MaxLiterals {
		// Skip ahead as findWallets does: a run of b64MinLen must cover
		// s[i+b64MinLen-1].
		k := i + b64MinLen - 1
		for k >= i && b64Table[s[k]] {
			k--
		}
		if k >= i {
			i = k + 1
			continue
		}
		j := i + b64MinLen
		for j < len(s) && b64Table[s[j]] {
			j++
		}
		lit := s[i:j]
		for j < len(s) && s[j] == '=' && j-i < len(lit)+2 {
			j++
		}
		if len(lit) <= b64MaxLen {
			out = append(out, lit)
		}
		i = j
	}
	return out
}

// decodeBase64Text decodes a literal (padding optional) and returns the
// text if it is printable: valid UTF-8, no NUL or other control characters
// but tab, CR and LF.
func decodeBase64Text(lit string) (string, bool) {
	lit = strings.TrimRight(lit, "=")
	if len(lit)%4 == 1 {
		lit = lit[:len(lit)-1]
	}
	b, err := base64.RawStdEncoding.DecodeString(lit)
	if err != nil || len(b) < 12 || !utf8.Valid(b) {
		return "", false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return "", false
		}
	}
	return string(b), true
}

// networkIndicator: the decoded text names a pool, a stratum URL, a miner
// repository or miner options.
func networkIndicator(hits []hit, text string) bool {
	for _, h := range hits {
		switch h.rule {
		case RuleStratumURL, RulePoolDomain, RuleMinerRepo, RuleMinerOptions:
			return true
		}
	}
	return minerOptRe.MatchString(strings.ToLower(text))
}

// base64Hits decodes the base64 literals in text and returns the hits of
// those that decode to text with a network indicator, analysed as text and
// as shell, with evidence prefixed "base64-decoded: ".
func base64Hits(text string) []hit {
	budget := b64MaxDecoded
	return base64HitsDepth(text, 0, &budget)
}

func base64HitsDepth(text string, depth int, budget *int) []hit {
	var out []hit
	seen := map[string]bool{}
	for _, lit := range base64Literals(text) {
		if *budget <= 0 {
			break
		}
		dec, ok := decodeBase64Text(lit)
		if !ok || seen[dec] {
			continue
		}
		seen[dec] = true
		*budget -= len(dec)
		t := newTextScanner(false)
		t.scan([]byte(dec), true, true)
		textHits := t.finish()
		var inner []hit
		if depth+1 < b64MaxDepth {
			inner = base64HitsDepth(dec, depth+1, budget)
		}
		if !networkIndicator(textHits, dec) && len(inner) == 0 {
			continue
		}
		hits := append(textHits, analyzeScript(parseShell(dec), false)...)
		for _, h := range hits {
			k := h.rule + "\x00" + h.evidence
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, hit{rule: h.rule, evidence: clip("base64-decoded: " + h.evidence)})
		}
		// Nested literals are already prefixed once per level.
		for _, h := range inner {
			out = append(out, hit{rule: h.rule, evidence: clip("base64-decoded: " + h.evidence)})
		}
	}
	return out
}

// Base64-encoded files. Droppers also carry whole programs as base64 in
// their scripts or in an ENV value and write them out at start
// (`echo "$P" | base64 -d > /tmp/x; chmod +x /tmp/x; /tmp/x`; TeamTNT's
// scripts embed binaries so, Unit 42 and Trend Micro reports). A literal of
// at least b64FileMinLen characters that decodes to an ELF file or an
// archive or compressed stream is analysed as a file of its own (a member
// named base64[N] of the text that holds it), within the archive limits.
const (
	b64FileMinLen = 256 // encodes 192 bytes: smaller than any ELF program
	b64MaxFiles   = 8   // literals analysed as files per text
)

var fmtBase64 containerFormat = "base64"

// base64Files analyses the base64 literals of text that decode to an ELF
// file or a container format; src is the text's own source.
func base64Files(src source, text string, o fileOpts) (fileResult, error) {
	var out fileResult
	n := 0
	for _, lit := range base64Literals(text) {
		if len(lit) < b64FileMinLen || n >= b64MaxFiles {
			continue
		}
		// The first 512 characters decode to 384 bytes: enough for the
		// ELF magic and every container's (tar's sits at 257).
		h := strings.TrimRight(lit[:min(len(lit), 512)], "=")
		head, err := base64.RawStdEncoding.DecodeString(h[:len(h)-len(h)%4])
		if err != nil || !(bytes.HasPrefix(head, []byte("\x7fELF")) || sniffContainer(head) != "") {
			continue
		}
		body := strings.TrimRight(lit, "=")
		body = body[:len(body)-len(body)%4]
		dec, err := base64.RawStdEncoding.DecodeString(body)
		if err != nil {
			continue
		}
		n++
		child := src.member(fmtBase64, fmt.Sprintf("base64[%d]", n), 0o755, int64(len(dec)))
		fr, err := analyzeStream(child, bytes.NewReader(dec), o)
		if err != nil {
			return out, err
		}
		if out.minerBinary == "" {
			out.minerBinary = fr.minerBinary
		}
		out.hits = append(out.hits, fr.hits...)
		out.digests = append(out.digests, fr.digests...)
	}
	return out, nil
}
