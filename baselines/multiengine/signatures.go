package multiengine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/strata-sec/strata/internal/layers"
)

// Signature generation parameters. They are part of the method: changing one
// changes the generated databases and therefore Signatures.Digest.
const (
	// MinBodyBytes is the shortest body sequence used in .ndb and YARA rules.
	MinBodyBytes = 32
	// MaxBodyBytes caps one body sequence: the head of a longer string.
	MaxBodyBytes = 64
	// MaxYaraStrings is the number of strings per generated YARA rule.
	MaxYaraStrings = 6
	// LearnMaxFileBytes bounds the bytes read of one file while learning.
	LearnMaxFileBytes int64 = 32 << 20

	minDistinctBytes = 10 // a body sequence needs this many different byte values
	rawWindows       = 4  // raw fallback windows per file
	rawWindowBytes   = 48
)

// Kinds of signed files. Only ELF binaries and scripts get body signatures.
const (
	KindELF    = "elf"
	KindScript = "script"
	KindOther  = "other"
)

// FileSignature is what was learned from one file of a malicious layer.
type FileSignature struct {
	Path   string `json:"path"`
	Layer  int    `json:"layer"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Kind   string `json:"kind"`
	// Body are the distinctive byte sequences chosen for the file, best
	// first, hex encoded: Body[0] is the .ndb signature, all of them are the
	// YARA rule's strings.
	Body []string `json:"body,omitempty"`
	// ClamAVHash, ClamAVBody and YaraRule name the generated signatures.
	ClamAVHash string `json:"clamav_hash"`
	ClamAVBody string `json:"clamav_body,omitempty"`
	YaraRule   string `json:"yara_rule,omitempty"`
}

// Signatures is a learned database: the per-file facts and the generated
// engine databases, verbatim, so a run can be reproduced and inspected.
type Signatures struct {
	// Image is the manifest digest of the first sighting.
	Image           string          `json:"image"`
	MaliciousLayers []int           `json:"malicious_layers"`
	Files           []FileSignature `json:"files"`
	// Excluded lists files of the malicious layers that got no signature,
	// with the reason ("path: reason").
	Excluded  []string `json:"excluded,omitempty"`
	ClamAVHSB string   `json:"clamav_hsb"`
	ClamAVNDB string   `json:"clamav_ndb"`
	YaraRules string   `json:"yara_rules"`
}

// Save writes the database as JSON.
func (s Signatures) Save(p string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save signatures: %w", err)
	}
	if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save signatures: %w", err)
	}
	return nil
}

// Load reads a database written by Save.
func Load(p string) (Signatures, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return Signatures{}, fmt.Errorf("load signatures: %w", err)
	}
	var s Signatures
	if err := json.Unmarshal(b, &s); err != nil {
		return Signatures{}, fmt.Errorf("load signatures %s: %w", p, err)
	}
	return s, nil
}

// Digest identifies the database content (sha256 of its JSON); it is part
// of every verdict and of the layer cache key.
func (s Signatures) Digest() string {
	b, _ := json.Marshal(s) // strings, ints and slices of them: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// learnedFile is a malicious-layer file held in memory while learning.
type learnedFile struct {
	path  string
	layer int
	data  []byte
	sum   string
	kind  string
	cands []candidate
}

// Learn generates signatures from the files the malicious layers (indices,
// 0 = bottom) of img add, the first sighting of a sample. It reads the image
// twice with layers.Walk: once to collect the malicious files, once to
// reject what also occurs in the benign layers (identical files and body
// sequences). The generated databases are validated by the real engines, so
// clamscan and yara must be installed.
func Learn(img v1.Image, maliciousLayers []int) (Signatures, error) {
	ctx := context.Background()
	eng, err := findEngines(ctx, "", "")
	if err != nil {
		return Signatures{}, fmt.Errorf("learn: %w", err)
	}
	md, err := img.Digest()
	if err != nil {
		return Signatures{}, fmt.Errorf("learn: manifest digest: %w", err)
	}
	imgLayers, err := img.Layers()
	if err != nil {
		return Signatures{}, fmt.Errorf("learn: layers: %w", err)
	}
	mal := map[int]bool{}
	s := Signatures{Image: md.String()}
	for _, i := range maliciousLayers {
		if i < 0 || i >= len(imgLayers) {
			return Signatures{}, fmt.Errorf("learn: malicious layer %d out of range (image has %d layers)", i, len(imgLayers))
		}
		if !mal[i] {
			mal[i] = true
			s.MaliciousLayers = append(s.MaliciousLayers, i)
		}
	}
	sort.Ints(s.MaliciousLayers)

	// Pass 1: the malicious files.
	var files []*learnedFile
	res, err := layers.Walk(ctx, img, func(li *layers.LayerInfo, e *layers.Entry, r io.Reader) error {
		if !mal[li.Index] {
			return nil
		}
		switch {
		case e.Size == 0:
			s.Excluded = append(s.Excluded, e.Path+": empty file")
			return nil
		case e.Size > LearnMaxFileBytes:
			s.Excluded = append(s.Excluded, fmt.Sprintf("%s: %d bytes, larger than %d", e.Path, e.Size, LearnMaxFileBytes))
			return nil
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files = append(files, &learnedFile{path: e.Path, layer: li.Index, data: b, sum: hex.EncodeToString(sum[:]), kind: kindOf(e.Path, b)})
		return nil
	}, layers.WithMaxFileBytes(LearnMaxFileBytes), layers.WithMaxTotalBytes(0))
	if err != nil {
		return Signatures{}, fmt.Errorf("learn: %w", err)
	}
	for _, is := range res.Issues {
		if mal[is.Layer] {
			s.Excluded = append(s.Excluded, fmt.Sprintf("%s: %s: %s", is.Path, is.Kind, is.Detail))
		}
	}

	// Pass 2: the benign layers. Identical files and body sequences found
	// there would flag the benign content the sample was built on.
	m := newMatcher()
	for _, f := range files {
		if f.kind == KindOther {
			continue
		}
		f.cands = candidates(f.data)
		for i := range f.cands {
			f.cands[i].id = m.add(f.cands[i].seq)
		}
	}
	benign := map[string]bool{}
	if len(mal) < len(imgLayers) {
		var buf bytes.Buffer
		_, err := layers.Walk(ctx, img, func(li *layers.LayerInfo, e *layers.Entry, r io.Reader) error {
			if mal[li.Index] {
				return nil
			}
			buf.Reset()
			if _, err := buf.ReadFrom(r); err != nil {
				return err
			}
			sum := sha256.Sum256(buf.Bytes())
			benign[hex.EncodeToString(sum[:])] = true
			m.scan(buf.Bytes())
			return nil
		}, layers.WithMaxFileBytes(LearnMaxFileBytes), layers.WithMaxTotalBytes(0))
		if err != nil {
			return Signatures{}, fmt.Errorf("learn: benign layers: %w", err)
		}
	}

	seen := map[string]bool{}
	for _, f := range files {
		switch {
		case benign[f.sum]:
			s.Excluded = append(s.Excluded, f.path+": identical to a benign-layer file")
			continue
		case seen[f.sum]:
			s.Excluded = append(s.Excluded, f.path+": identical to another signed file")
			continue
		}
		seen[f.sum] = true
		fs := FileSignature{Path: f.path, Layer: f.layer, Size: int64(len(f.data)), SHA256: f.sum, Kind: f.kind}
		base := sigBase(f.path, f.sum)
		fs.ClamAVHash = "Strata.Multiengine." + base + ".Hash"
		for _, c := range pick(f.cands, m) {
			fs.Body = append(fs.Body, hex.EncodeToString(c.seq))
		}
		if f.kind != KindOther {
			if len(fs.Body) == 0 {
				s.Excluded = append(s.Excluded, f.path+": no distinctive body sequence (hash signature only)")
			} else {
				fs.ClamAVBody = "Strata.Multiengine." + base + ".Body"
				fs.YaraRule = "strata_" + strings.ReplaceAll(base, ".", "_")
			}
		}
		s.Files = append(s.Files, fs)
	}
	s.ClamAVHSB, s.ClamAVNDB, s.YaraRules = render(s.Files)
	if err := eng.validate(ctx, s); err != nil {
		return Signatures{}, fmt.Errorf("learn: generated databases: %w", err)
	}
	return s, nil
}

var scriptExts = map[string]bool{
	".sh": true, ".bash": true, ".zsh": true, ".ksh": true, ".py": true, ".pl": true,
	".rb": true, ".php": true, ".js": true, ".lua": true, ".ps1": true,
}

func kindOf(p string, b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return KindELF
	case bytes.HasPrefix(b, []byte("#!")), scriptExts[strings.ToLower(path.Ext(p))]:
		return KindScript
	}
	return KindOther
}

// sigBase names a file's signatures: its base name reduced to
// [A-Za-z0-9_] (ClamAV names forbid ':' and blanks, YARA identifiers allow
// little more) and 12 hex digits of its SHA-256, so names are unique.
func sigBase(p, sum string) string {
	var b strings.Builder
	for _, r := range path.Base(p) {
		if b.Len() >= 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		b.WriteString("file")
	}
	return b.String() + "." + sum[:12]
}

// candidate is a possible body sequence of a file. rank orders candidates:
// printable strings by their full length (longest first), raw windows after.
type candidate struct {
	seq  []byte
	rank int
	raw  bool
	id   int
}

func printable(c byte) bool { return c == '\t' || (c >= 0x20 && c <= 0x7e) }

func distinct(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}

// candidates lists a file's possible body sequences. First the printable
// strings (runs of 0x20-0x7e and tab, so script lines and the .rodata
// strings of binaries), trimmed of blanks, at least MinBodyBytes long and
// with minDistinctBytes different bytes (no "=====" rulers), cut to their
// first MaxBodyBytes; the longest strings are the most specific (usage
// text, URLs, command lines). Then, as a fallback for files without enough
// strings, rawWindows windows spread over the file body (not its first
// fifth: ELF headers and script preambles are common to many files).
func candidates(b []byte) []candidate {
	var out []candidate
	seen := map[string]bool{}
	addC := func(seq []byte, rank int, raw bool) {
		if len(seq) < MinBodyBytes || distinct(seq) < minDistinctBytes || seen[string(seq)] {
			return
		}
		seen[string(seq)] = true
		out = append(out, candidate{seq: seq, rank: rank, raw: raw})
	}
	for i := 0; i < len(b); {
		if !printable(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && printable(b[j]) {
			j++
		}
		run := bytes.Trim(b[i:j], " \t")
		addC(run[:min(len(run), MaxBodyBytes)], len(run), false)
		i = j
	}
	if len(b) >= 2*rawWindowBytes {
		for k := 1; k <= rawWindows; k++ {
			off := len(b) * k / (rawWindows + 1)
			if off+rawWindowBytes > len(b) {
				off = len(b) - rawWindowBytes
			}
			addC(b[off:off+rawWindowBytes], 0, true)
		}
	}
	sort.SliceStable(out, func(x, y int) bool {
		if out[x].raw != out[y].raw {
			return !out[x].raw
		}
		return out[x].rank > out[y].rank
	})
	return out
}

// pick returns up to MaxYaraStrings candidates not seen in benign content;
// raw windows only if fewer than two strings remain.
func pick(cs []candidate, m *matcher) []candidate {
	var strs, raws []candidate
	for _, c := range cs {
		if m.seen[c.id] {
			continue
		}
		if c.raw {
			raws = append(raws, c)
		} else {
			strs = append(strs, c)
		}
	}
	if len(strs) < 2 {
		strs = append(strs, raws...)
	}
	return strs[:min(len(strs), MaxYaraStrings)]
}

// matcher finds which candidate sequences occur in a stream of benign files:
// a Rabin-Karp rolling hash over every MinBodyBytes window, a bitmap as a
// cheap prefilter, then a map and a full comparison. About a nanosecond per
// byte, so the benign layers of a large image are checked in seconds.
type matcher struct {
	seqs   [][]byte
	seen   []bool
	byHash map[uint64][]int
	bits   []uint64
	pow    uint64 // rollBase^(MinBodyBytes-1)
}

const (
	rollBase = 1099511628211
	bitsLog  = 22
)

func newMatcher() *matcher {
	m := &matcher{byHash: map[uint64][]int{}, bits: make([]uint64, 1<<bitsLog/64), pow: 1}
	for i := 0; i < MinBodyBytes-1; i++ {
		m.pow *= rollBase
	}
	return m
}

func rollHash(b []byte) uint64 {
	var h uint64
	for _, c := range b {
		h = h*rollBase + uint64(c)
	}
	return h
}

func (m *matcher) add(seq []byte) int {
	id := len(m.seqs)
	m.seqs = append(m.seqs, seq)
	m.seen = append(m.seen, false)
	h := rollHash(seq[:MinBodyBytes])
	m.byHash[h] = append(m.byHash[h], id)
	i := h >> (64 - bitsLog)
	m.bits[i/64] |= 1 << (i % 64)
	return id
}

func (m *matcher) scan(b []byte) {
	if len(m.seqs) == 0 || len(b) < MinBodyBytes {
		return
	}
	h := rollHash(b[:MinBodyBytes])
	for pos := 0; ; pos++ {
		if i := h >> (64 - bitsLog); m.bits[i/64]&(1<<(i%64)) != 0 {
			for _, id := range m.byHash[h] {
				s := m.seqs[id]
				if !m.seen[id] && pos+len(s) <= len(b) && bytes.Equal(b[pos:pos+len(s)], s) {
					m.seen[id] = true
				}
			}
		}
		end := pos + MinBodyBytes
		if end >= len(b) {
			return
		}
		h = (h-uint64(b[pos])*m.pow)*rollBase + uint64(b[end])
	}
}

// render writes the three databases. Output is a pure function of files.
//
//   - .hsb: "sha256:size:name" for every signed file.
//   - .ndb: "name:0:*:hex" with the file's best body sequence, target type
//     0 (any file: type 7 would normalise text first) at any offset.
//   - YARA: one rule per file with its body sequences as strings (text when
//     printable, hex otherwise) and "2 of them" (1 with a single string):
//     a variant must keep two of the file's most specific strings.
func render(files []FileSignature) (hsb, ndb, yar string) {
	var h, n, y strings.Builder
	y.WriteString("// Generated by strata baselines/multiengine from the first sighting.\n\n")
	for _, f := range files {
		fmt.Fprintf(&h, "%s:%d:%s\n", f.SHA256, f.Size, f.ClamAVHash)
		if f.ClamAVBody != "" {
			fmt.Fprintf(&n, "%s:0:*:%s\n", f.ClamAVBody, f.Body[0])
		}
		if f.YaraRule == "" {
			continue
		}
		fmt.Fprintf(&y, "rule %s\n{\n    meta:\n", f.YaraRule)
		fmt.Fprintf(&y, "        path = %s\n        layer = %d\n        sha256 = %q\n    strings:\n", yaraText([]byte(f.Path)), f.Layer, f.SHA256)
		for i, hx := range f.Body {
			b, _ := hex.DecodeString(hx) // written by Learn
			fmt.Fprintf(&y, "        $s%d = %s\n", i, yaraString(b))
		}
		fmt.Fprintf(&y, "    condition:\n        %d of them\n}\n\n", min(2, len(f.Body)))
	}
	return h.String(), n.String(), y.String()
}

// yaraString is a YARA string for b: a text string if every byte is
// printable ASCII, a hex string otherwise.
func yaraString(b []byte) string {
	for _, c := range b {
		if !printable(c) {
			parts := make([]string, len(b))
			for i, c := range b {
				parts[i] = fmt.Sprintf("%02x", c)
			}
			return "{ " + strings.Join(parts, " ") + " }"
		}
	}
	return yaraText(b)
}

// yaraText quotes b as a YARA text string: backslash and double quote are
// escaped, tab is \t, any other byte outside printable ASCII is \xNN (paths
// need not be UTF-8).
func yaraText(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case c == '\t':
			s.WriteString(`\t`)
		case c >= 0x20 && c <= 0x7e:
			s.WriteByte(c)
		default:
			s.WriteString(`\x` + strconv.FormatUint(uint64(c)|0x100, 16)[1:])
		}
	}
	s.WriteByte('"')
	return s.String()
}
