package hierarchical

import (
	"regexp"
	"sort"
	"strings"
)

// hit is one rule match before provenance is attached.
type hit struct {
	rule     string
	evidence string
}

var (
	// stratumRe matches pool URLs with a host (lower-cased input). The bare
	// scheme "stratum+tcp://" as a string constant in code is not a URL.
	stratumRe = regexp.MustCompile(`stratum[12]?\+(?:tcp|ssl|tls)://[a-z0-9\[][a-z0-9._~%@:\-\[\]]*`)
	// repoRe finds repository URLs; the name is checked against miner_repos.
	repoRe = regexp.MustCompile(`(?:github\.com|gitlab\.com|bitbucket\.org)[/:]([a-z0-9_.\-]+)/([a-z0-9_.\-]+)`)
	// minerOptRe: options only miners have (cpuminer/xmrig usage, xmrig
	// config keys). -a/--algo counts only with a mining algorithm after it.
	// It has no literal prefix, so on file content it only runs on small
	// windows around the literals in minerOptHints (see findMinerOptions).
	minerOptRe = regexp.MustCompile(`(?:^|[\s"'=])(?:-a|--algo)(?:\s+|=)["']?(?:cryptonight[a-z0-9/_-]*|cn(?:-lite|-heavy|-pico)?/[a-z0-9]+|rx/[a-z0-9]+|randomx[a-z0-9]*|argon2/[a-z]+|kawpow|ghostrider|astrobwt|yespower[a-z0-9]*|scrypt|sha256d|lyra2[a-z0-9]*|equihash[a-z0-9]*|ethash|etchash|ubqhash|autolykos2?|kheavyhash|octopus|firopow|progpow[a-z0-9]*|beamhash[a-z0-9]*|cuckatoo[0-9]+|cuckaroo[a-z0-9]*|zhash|nexapow|karlsenhash)(?:$|[\s"'])` +
		`|--donate-level|"donate-level"|--donate-over-proxy|"donate-over-proxy"|--max-cpu-usage|"max-cpu-usage"|--randomx-(?:mode|1gb-pages|wrmsr|init|no-numa|no-rdmsr)|--cpu-max-threads-hint|"cpu-max-threads-hint"`)
	minerOptHints = []string{"cryptonight", "cn/", "cn-heavy", "cn-lite", "cn-pico", "rx/", "randomx", "argon2/", "kawpow", "ghostrider", "astrobwt", "yespower",
		"scrypt", "sha256d", "lyra2", "equihash", "ethash", "etchash", "ubqhash", "autolykos", "kheavyhash", "octopus", "firopow", "progpow",
		"beamhash", "cuckatoo", "cuckaroo", "zhash", "nexapow", "karlsenhash", "donate-", "max-cpu-usage", "cpu-max-threads-hint"}
	// agentRe: user agents miners send to pools, "<name>/<version>" as
	// their sources build them (USER_AGENT PACKAGE_NAME "/" PACKAGE_VERSION
	// in the cpuminer family and ccminer, APP_NAME "/" APP_VERSION in XMRig,
	// "xmr-stak/<version>"); the version may still be a %s.
	agentRe    = regexp.MustCompile(`(?:xmrig(?:-proxy|-notls|cc)?|cpuminer(?:-multi|-opt|-gr)?|ccminer|xmr-stak(?:-cpu|-rx|-amd|-nvidia)?|sgminer|cgminer|bfgminer|minerd)/(?:%s|v?[0-9]+(?:\.[0-9]+)+)`)
	agentHints = []string{"xmrig", "cpuminer", "ccminer/", "xmr-stak", "sgminer/", "cgminer/", "bfgminer/", "minerd/"}
	// agentFormat: XMRig composes its agent at run time from
	// "%s/%s (Linux " (APP_NAME, APP_VERSION) and "x86_64) libuv/%s"
	// (src/base/kernel/Platform_unix.cpp), so "XMRig/<version>" never
	// appears in the binary; both pieces together do.
	agentFormat = []string{"%s/%s (linux ", ") libuv/"}

	// Anchored forms of the regexps that start with a literal: on file
	// content they run only at that literal's occurrences (found by the
	// literal pass), so a binary full of "github.com" strings is not
	// searched end to end once per chunk. allAt reproduces FindAll exactly.
	stratumAt = regexp.MustCompile(`^(?:` + stratumRe.String() + `)`)
	repoAt    = regexp.MustCompile(`^(?:` + repoRe.String() + `)`)
)

// allAt returns what re.FindAllSubmatchIndex(b, -1) returns, for a regexp
// whose every match starts at one of the ascending positions pos; at is re
// anchored with ^. The leftmost match is the anchored match at the first
// position that has one, and the next search starts where it ended.
func allAt(at *regexp.Regexp, b []byte, pos []int) [][]int {
	var out [][]int
	end := 0
	for _, p := range pos {
		if p < end {
			continue
		}
		m := at.FindSubmatchIndex(b[p:])
		if m == nil {
			continue
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += p
			}
		}
		out = append(out, m)
		end = m[1]
	}
	return out
}

// minerOptionsAround returns up to n minerOptRe matches in lower. The
// regexp has no literal prefix, so it only runs on small windows around the
// hint literals found by the literal pass (hints holds start,end pairs).
func minerOptionsAround(lower []byte, hints []int, n int) [][2]int {
	var out [][2]int
	seen := map[[2]int]bool{}
	for k := 0; k+1 < len(hints) && len(out) < n; k += 2 {
		hs, he := hints[k], hints[k+1]
		ws, we := max(0, hs-24), min(len(lower), he+48)
		for _, m := range minerOptRe.FindAllIndex(lower[ws:we], -1) {
			r := [2]int{ws + m[0], ws + m[1]}
			// A match must cover its hint, else another window owns it.
			if r[0] <= hs && r[1] >= he && !seen[r] && len(out) < n {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// stratumMethods are the Bitcoin-style stratum methods. cryptoNoteMethods are
// the CryptoNote stratum's (XMRig src/base/net/stratum/Client.cpp: login,
// job, submit, keepalived; cpuminer-multi's RPC2: login, getjob, submit):
// ordinary words, so each counts only as a whole string (NUL- or
// quote-delimited, as string constants and JSON templates are), and only
// when the protocol's "job_id" key and one of its distinctive methods
// (getjob, keepalived) are present.
var stratumMethods = []string{"mining.subscribe", "mining.authorize", "mining.submit", "mining.notify", "mining.set_difficulty"}

// miningAlgorithms are names only mining code uses (not generic primitives
// such as sha256 or argon2id).
var miningAlgorithms = []string{"cryptonight", "randomx", "rx/0", "rx/wow", "rx/arq", "cn/r", "cn/0", "cn/1", "cn/2", "cn/half",
	"cn-lite", "cn-heavy", "cn-pico", "argon2/chukwa", "argon2/wrkz", "kawpow", "ghostrider", "astrobwt", "yespower"}

// textScanner scans one file chunk by chunk and accumulates hits.
type textScanner struct {
	elf     bool
	hits    []hit
	seen    map[string]bool
	methods map[string]bool
	algos   map[string]bool
	rpc     [5]bool // whole-string CryptoNote methods seen
	jobID   bool    // "job_id" seen
	fmtSeen [2]bool // agentFormat pieces seen
	lower   []byte
	// 0.4.0: web marks a web file (browser-miner loaders count), wasm a
	// WebAssembly module (mining hash names count); jsonKeys are the
	// XMRig-style configuration keys seen (see jsonKeys), browser the first
	// loader seen, wasmNames the hash names seen in a module.
	web, wasm, text bool
	jsonKeys        [10]bool // len(minerJSONKeys)
	browser         string
	wasmNames       map[string]bool
}

// minerJSONKeys: "pools", "url" and "user" (indices 0-2) and the keys only
// a miner's configuration has (XMRig src/config.json).
var minerJSONKeys = []string{`"pools"`, `"url"`, `"user"`, `"randomx"`, `"donate-level"`, `"huge-pages"`, `"algo"`, `"coin"`, `"nicehash"`, `"rig-id"`}

// wasmMiningNames are the hash functions a cryptonight/RandomX WebAssembly
// miner exports or names.
var wasmMiningNames = []string{"cryptonight", "cn_slow_hash", "randomx", "cryptonight_hash"}

func newTextScanner(elf bool) *textScanner {
	return &textScanner{elf: elf, seen: map[string]bool{}, methods: map[string]bool{}, algos: map[string]bool{}}
}

func (t *textScanner) add(rule, ev string) {
	key := rule + "\x00" + ev
	if t.seen[key] {
		return
	}
	t.seen[key] = true
	t.hits = append(t.hits, hit{rule: rule, evidence: clip(ev)})
}

// maxHitsPerFile stops one huge file (a blocklist) from flooding findings.
const maxHitsPerFile = 20

// Literal kinds for the single-pass matcher.
const (
	litPool = iota
	litOptHint
	litAlgo
	litMethod
	litRPC
	litAgent
	litStratum
	litRepoHost
	litJobID
	litAgentFormat
	litJSONKey
	litBrowser
	litWASM
)

// cryptoNoteMethods: see stratumMethods. Indices 1 and 4 are the
// distinctive ones.
var cryptoNoteMethods = []string{"login", "getjob", "job", "submit", "keepalived"}

// isStringDelim: bytes that end a string constant or a quoted JSON value in
// a binary or source file.
func isStringDelim(c byte) bool { return c == 0 || c == '"' || c == '\'' || c == '\\' || c == '`' }

// literals finds every rule's literals in one pass over a chunk, instead of
// one bytes.Index pass per literal (there are about a hundred).
var literals = func() *literalSet {
	ls := &literalSet{}
	groups := []struct {
		kind int
		list []string
	}{
		{litPool, poolDomains}, {litOptHint, minerOptHints}, {litAlgo, miningAlgorithms}, {litMethod, stratumMethods},
		{litRPC, cryptoNoteMethods}, {litAgent, agentHints}, {litStratum, []string{"stratum"}},
		{litRepoHost, []string{"github.com", "gitlab.com", "bitbucket.org"}},
		{litJobID, []string{"job_id"}}, {litAgentFormat, agentFormat},
	}
	for _, g := range groups {
		for i, l := range g.list {
			ls.add(l, g.kind, i)
		}
	}
	return ls
}()

// extraLiterals are the 0.4.0 literals that only text, web and WebAssembly
// files need (XMRig JSON keys, browser loaders, WASM hash names). Their
// two-byte prefixes ("co", "lo", "\"u" ...) are common, so ELF files and
// other binary data, most of an image's bytes, are not searched for them.
var extraLiterals = func() *literalSet {
	ls := &literalSet{}
	for i, l := range minerJSONKeys {
		ls.add(l, litJSONKey, i)
	}
	for i, l := range browserMiners {
		ls.add(l, litBrowser, i)
	}
	for i, l := range wasmMiningNames {
		ls.add(l, litWASM, i)
	}
	return ls
}()

type literal struct {
	text  string
	kind  int
	index int // position in its list
}

// literalSet indexes literals by their first two bytes: scanning costs one
// table lookup per input byte plus a compare on the candidates. group[k] is
// 0 for a prefix k no literal has, else 1 + the index of its literals in
// groups (a byte, so the table is 64 KiB; a map lookup per candidate was
// 40% of the scan).
type literalSet struct {
	group  [1 << 16]uint8
	groups [][]literal
}

func (ls *literalSet) add(text string, kind, index int) {
	if len(text) < 2 {
		panic("hierarchical: literal shorter than 2 bytes: " + text)
	}
	k := uint16(text[0])<<8 | uint16(text[1])
	g := ls.group[k]
	if g == 0 {
		if len(ls.groups) == 255 {
			panic("hierarchical: more than 255 two-byte literal prefixes in one set")
		}
		ls.groups = append(ls.groups, nil)
		g = uint8(len(ls.groups))
		ls.group[k] = g
	}
	ls.groups[g-1] = append(ls.groups[g-1], literal{text: text, kind: kind, index: index})
}

// each calls fn for every occurrence of every literal in b, in order of
// position, and at one position in the order the literals were added.
func (ls *literalSet) each(b []byte, fn func(l literal, pos int)) {
	for i := 0; i+1 < len(b); i++ {
		g := ls.group[uint16(b[i])<<8|uint16(b[i+1])]
		if g == 0 {
			continue
		}
		for _, l := range ls.groups[g-1] {
			if len(b)-i >= len(l.text) && string(b[i:i+len(l.text)]) == l.text {
				fn(l, i)
			}
		}
	}
}

// scan looks at one chunk. first/last say whether the chunk starts/ends the
// file: a match touching an inner chunk edge may be cut and is left to the
// neighbouring chunk, which overlaps this one.
func (t *textScanner) scan(chunk []byte, first, last bool) {
	if cap(t.lower) < len(chunk) {
		t.lower = make([]byte, len(chunk))
	}
	lower := t.lower[:len(chunk)]
	asciiLower(lower, chunk)
	inner := func(s, e int) bool { return (s > 0 || first) && (e < len(chunk) || last) }
	full := func() bool { return len(t.hits) >= maxHitsPerFile }

	var hasAgent bool
	var hints, stratumPos, repoPos []int
	if t.text || t.web || t.wasm {
		extraLiterals.each(lower, func(l literal, pos int) {
			switch l.kind {
			case litJSONKey:
				t.jsonKeys[l.index] = true
			case litBrowser:
				if t.web && t.browser == "" {
					e := min(len(chunk), pos+len(l.text)+40)
					t.browser = string(chunk[pos:e])
				}
			case litWASM:
				if t.wasm {
					if t.wasmNames == nil {
						t.wasmNames = map[string]bool{}
					}
					t.wasmNames[l.text] = true
				}
			}
		})
	}
	literals.each(lower, func(l literal, pos int) {
		switch l.kind {
		case litPool:
			e := pos + len(l.text)
			if full() || !hostBoundary(lower, pos, e) {
				return
			}
			if hs, he := expandHost(lower, pos, e); inner(hs, he) {
				t.add(RulePoolDomain, string(chunk[hs:he]))
			}
		case litOptHint:
			if len(hints) < 512 {
				hints = append(hints, pos, pos+len(l.text))
			}
		case litAlgo:
			if t.elf && isWordAt(lower, pos, pos+len(l.text)) {
				t.algos[l.text] = true
			}
		case litMethod:
			t.methods[l.text] = true
		case litRPC:
			e := pos + len(l.text)
			// At an inner chunk edge the neighbouring chunk, which
			// overlaps this one, decides.
			// Case-sensitive, as the protocol is (systemd's D-Bus "GetJob"
			// is not a miner's "getjob").
			if (pos > 0 || first) && (e < len(lower) || last) && string(chunk[pos:e]) == l.text &&
				(pos == 0 || isStringDelim(lower[pos-1])) && (e == len(lower) || isStringDelim(lower[e])) {
				t.rpc[l.index] = true
			}
		case litJobID:
			t.jobID = true
		case litAgentFormat:
			t.fmtSeen[l.index] = true
		case litAgent:
			hasAgent = true
		case litStratum:
			stratumPos = append(stratumPos, pos)
		case litRepoHost:
			repoPos = append(repoPos, pos)
		}
	})

	for _, m := range allAt(stratumAt, lower, stratumPos) {
		if inner(m[0], m[1]) && !full() {
			t.add(RuleStratumURL, string(chunk[m[0]:m[1]]))
		}
	}
	for _, m := range allAt(repoAt, lower, repoPos) {
		name := strings.TrimSuffix(string(lower[m[4]:m[5]]), ".git")
		if minerRepos[name] && inner(m[0], m[1]) && !full() {
			t.add(RuleMinerRepo, string(chunk[m[0]:m[1]]))
		}
	}
	for _, m := range minerOptionsAround(lower, hints, 3) {
		if inner(m[0], m[1]) && !full() {
			t.add(RuleMinerOptions, strings.TrimSpace(string(chunk[m[0]:m[1]])))
		}
	}
	for _, w := range findWallets(chunk, first, last) {
		if !full() {
			t.add(RuleMoneroWallet, w)
		}
	}
	if t.elf && hasAgent {
		if m := agentRe.FindIndex(lower); m != nil && inner(m[0], m[1]) {
			t.add(RuleELFMinerAgent, string(chunk[m[0]:m[1]]))
		}
	}
}

// finish returns all hits, including the file-level method/algorithm counts.
func (t *textScanner) finish() []hit {
	methods := make([]string, 0, len(t.methods)+1)
	for m := range t.methods {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	if t.jobID && (t.rpc[1] || t.rpc[4]) {
		for i, m := range cryptoNoteMethods {
			if t.rpc[i] {
				methods = append(methods, m)
			}
		}
	}
	if len(methods) >= 2 {
		rule := RuleStratumSource
		if t.elf {
			rule = RuleELFStratum
		}
		t.add(rule, strings.Join(methods, ", "))
	}
	if t.elf && t.fmtSeen[0] && t.fmtSeen[1] {
		t.add(RuleELFMinerAgent, `XMRig-style user agent format "%s/%s (Linux " + ") libuv/"`)
	}
	if k := t.jsonKeys; !t.elf && k[0] && k[1] && k[2] {
		var keys []string
		for i := 3; i < len(k); i++ {
			if k[i] {
				keys = append(keys, minerJSONKeys[i])
			}
		}
		if len(keys) > 0 {
			t.add(RuleMinerConfigJSON, `"pools" with "url" and "user", and `+strings.Join(keys, ", "))
		}
	}
	if t.browser != "" {
		t.add(RuleBrowserMiner, t.browser)
	}
	if len(t.wasmNames) > 0 {
		names := make([]string, 0, len(t.wasmNames))
		for n := range t.wasmNames {
			names = append(names, n)
		}
		sort.Strings(names)
		t.add(RuleWASMMiner, "WebAssembly module naming "+strings.Join(names, ", "))
	}
	if len(t.algos) >= 2 {
		algos := make([]string, 0, len(t.algos))
		for a := range t.algos {
			algos = append(algos, a)
		}
		sort.Strings(algos)
		t.add(RuleELFAlgorithms, strings.Join(algos, ", "))
	}
	return t.hits
}

// scanLine runs the text rules on one command line or config value.
func scanLine(s string) []hit {
	t := newTextScanner(false)
	t.scan([]byte(s), true, true)
	var out []hit
	for _, h := range t.hits {
		// Options are judged by the command analysis, which sees argv.
		if h.rule != RuleMinerOptions {
			out = append(out, h)
		}
	}
	return out
}

var lowerTable = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[i] = c
	}
	return
}()

// asciiLower lower-cases ASCII only, so offsets in dst match src.
func asciiLower(dst, src []byte) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = lowerTable[c]
	}
}

func isHostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
}

// hostBoundary: the match is a whole host name or a parent domain of one
// ("xmr.pool.minergate.com" for "pool.minergate.com"), not "notminexmr.com"
// or "minexmr.com.example".
func hostBoundary(b []byte, s, e int) bool {
	if s > 0 && isHostByte(b[s-1]) {
		return false
	}
	if e < len(b) && (isHostByte(b[e]) || (b[e] == '.' && e+1 < len(b) && isHostByte(b[e+1]))) {
		return false
	}
	return true
}

// expandHost widens a domain match to the full host and port.
func expandHost(b []byte, s, e int) (int, int) {
	for s > 0 && (isHostByte(b[s-1]) || b[s-1] == '.') {
		s--
	}
	if e < len(b) && b[e] == ':' {
		e++
		for e < len(b) && b[e] >= '0' && b[e] <= '9' {
			e++
		}
	}
	return s, e
}

// isWordAt: b[s:e] is not part of a longer alphanumeric word.
func isWordAt(b []byte, s, e int) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	return (s == 0 || !alnum(b[s-1])) && (e == len(b) || !alnum(b[e]))
}

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var isBase58 = func() (t [256]bool) {
	for i := 0; i < len(base58); i++ {
		t[base58[i]] = true
	}
	return
}()

var tokenTable = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/'
	}
	return
}()

func isTokenByte(c byte) bool { return tokenTable[c] }

// findWallets returns Monero addresses: whole tokens (bounded by anything
// that is not alphanumeric or base64 "+/") of 95 chars starting 4 or 8, or
// 106 chars starting 4, second char 0-9/A/B, all base58. Requiring whole
// tokens keeps base64 blobs from matching.
//
// Only tokens of at least 95 bytes matter, so the scan skips: from a token
// start i it looks at b[i+94] and backwards for a non-token byte; finding one
// at k means no long token starts before k+1. On binaries and prose that
// skips most bytes unread.
func findWallets(b []byte, first, last bool) []string {
	const minLen = 95
	var out []string
	i := 0
	for i+minLen <= len(b) {
		k := i + minLen - 1
		for k >= i && isTokenByte(b[k]) {
			k--
		}
		if k >= i {
			i = k + 1
			continue
		}
		// b[i:i+95] are all token bytes; i is a token start (b[i-1] is not a
		// token byte or i == 0), so the run from i is maximal on the left.
		j := i + minLen
		for j < len(b) && isTokenByte(b[j]) {
			j++
		}
		n := j - i
		if (n == 95 || n == 106) && (i > 0 || first) && (j < len(b) || last) {
			tok := b[i:j]
			ok := (tok[0] == '4' || (tok[0] == '8' && n == 95)) && (tok[1] >= '0' && tok[1] <= '9' || tok[1] == 'A' || tok[1] == 'B')
			for k := 0; ok && k < n; k++ {
				ok = isBase58[tok[k]]
			}
			if ok {
				out = append(out, string(tok))
			}
		}
		i = j
	}
	return out
}
