package hierarchical

import (
	"bytes"
	"strconv"
)

// Browser miners hidden in escaped strings. Cryptojacking scripts injected
// into sites hide their loader's names and URLs as JavaScript escape
// sequences ("\x43\x6f\x69\x6e\x48\x69\x76\x65" for CoinHive; Malwarebytes
// and Sucuri write-ups on injected Coinhive and Crypto-Loot loaders). A web
// file with at least minEscapes \xHH or \uHHHH sequences is also read with
// them decoded, and what the browser-miner and network rules find only
// there is reported with evidence "escaped: ...".

const minEscapes = 16

// escapedWebHits decodes the escape sequences of a web file's text and
// returns the hits of the decoded text that the text itself lacks (plain:
// the hits the file's own scan found).
func escapedWebHits(text []byte, plain []hit) []hit {
	if bytes.Count(text, []byte(`\x`))+bytes.Count(text, []byte(`\u`)) < minEscapes {
		return nil
	}
	had := map[string]bool{}
	for _, h := range plain {
		had[h.rule+"\x00"+h.evidence] = true
	}
	t := newTextScanner(false)
	t.web = true
	t.scan(decodeJSEscapes(text), true, true)
	var out []hit
	for _, h := range t.finish() {
		switch h.rule {
		case RuleBrowserMiner, RuleStratumURL, RulePoolDomain, RuleMoneroWallet:
			if !had[h.rule+"\x00"+h.evidence] {
				out = append(out, hit{h.rule, clip("escaped: " + h.evidence)})
			}
		}
	}
	return out
}

// decodeJSEscapes replaces \xHH and \uHHHH (ASCII results only) by the
// byte they stand for; everything else is kept.
func decodeJSEscapes(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			if v, err := strconv.ParseUint(string(b[i+2:i+4]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		if b[i] == '\\' && i+5 < len(b) && b[i+1] == 'u' {
			if v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16); err == nil && v < 0x80 {
				out = append(out, byte(v))
				i += 5
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}
