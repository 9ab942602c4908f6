package hierarchical

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math"
	"path"
	"sort"
	"strings"

	"github.com/glaslos/tlsh"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/strata-sec/strata/internal/layers"
)

// Fuzzy hashes (the hash signal). Stage 1 computes the TLSH and sha256 of
// every ELF file and shell script (and of an ELF or script inside a gzip
// member) while the file streams by; both become part of the cached
// per-file result. Matching against known samples happens when a file's
// result is added, after replay, so the known-sample set is never part of
// the cache key.
//
// TLSH digests are the 70-hex-digit digests github.com/glaslos/tlsh v0.3.0
// prints (String), i.e. the reference TLSH format without the "T1" version
// prefix; distances are that package's Diff. The digest is computed here by
// an equivalent streaming accumulator (tlshAcc, table-driven) that runs
// about twice as fast as the package's byte-at-a-time Write on the project's
// machine (BenchmarkTLSH); TestTLSHMatchesGlaslos checks that both give the
// same digest, byte for byte, on random and real files.

// FuzzyHashMaxDistance is the largest TLSH distance that counts as a match.
//
// The TLSH paper (Oliver, Cheng & Chen, CTC 2013) measured, for its 70-digit
// digest, a false-positive rate of 0.07% at distance < 40 (detection 49.6%)
// and 6.43% at < 100. A known-sample match is strong evidence (weight 6), so
// the cut-off sits below the paper's conservative point. On this project's
// machine, distinct programs built from one source tree come close (coreutils
// siblings 20-25, 0.06% of 202,566 /usr/bin pairs at <= 30), and so do
// programs that share a statically linked runtime: the XMRig-like stand-in
// linked statically against glibc is at 41 from /usr/sbin/ldconfig, the Go
// stand-in at 51 from gofmt. The same binaries padded with random bytes up
// to a few percent of their size, or with up to 512 bytes changed, stay at
// 0-12. 30 keeps a margin on both sides; see fuzzy_test.go.
const FuzzyHashMaxDistance = 30

// tlshMinBytes: TLSH needs enough input to be meaningful (the reference
// implementation's original minimum; 4.x accepts 50 bytes).
const tlshMinBytes = 256

// pearson is TLSH's Pearson permutation (trendmicro/tlsh tlsh_util.cpp,
// glaslos/tlsh pearson.go vTable; Apache-2.0).
var pearson = [256]byte{
	1, 87, 49, 12, 176, 178, 102, 166, 121, 193, 6, 84, 249, 230, 44, 163,
	14, 197, 213, 181, 161, 85, 218, 80, 64, 239, 24, 226, 236, 142, 38, 200,
	110, 177, 104, 103, 141, 253, 255, 50, 77, 101, 81, 18, 45, 96, 31, 222,
	25, 107, 190, 70, 86, 237, 240, 34, 72, 242, 20, 214, 244, 227, 149, 235,
	97, 234, 57, 22, 60, 250, 82, 175, 208, 5, 127, 199, 111, 62, 135, 248,
	174, 169, 211, 58, 66, 154, 106, 195, 245, 171, 17, 187, 182, 179, 0, 243,
	132, 56, 148, 75, 128, 133, 158, 100, 130, 126, 91, 13, 153, 246, 216, 219,
	119, 68, 223, 78, 83, 88, 201, 99, 122, 11, 92, 32, 136, 114, 52, 10,
	138, 30, 48, 183, 156, 35, 61, 26, 143, 74, 251, 94, 129, 162, 63, 152,
	170, 7, 115, 167, 241, 206, 3, 150, 55, 59, 151, 220, 90, 53, 23, 131,
	125, 173, 15, 238, 79, 95, 89, 16, 105, 137, 225, 224, 217, 160, 37, 123,
	118, 73, 2, 157, 46, 116, 9, 145, 134, 228, 207, 212, 202, 215, 69, 229,
	27, 188, 67, 124, 168, 252, 42, 4, 29, 108, 21, 247, 19, 205, 39, 203,
	233, 40, 186, 147, 198, 192, 155, 33, 164, 191, 98, 204, 165, 180, 117, 76,
	140, 36, 210, 172, 41, 54, 159, 8, 185, 232, 113, 196, 231, 47, 146, 120,
	51, 65, 28, 144, 254, 221, 93, 189, 194, 139, 112, 43, 71, 109, 184, 209,
}

// Pair tables: the salted Pearson hash of a triplet (c0, cx, cy) is
// pearson[pearson[pearson[pearson[salt]^c0]^cx]^cy]; the first three steps
// depend only on (c0, cx), so they are tabulated per pair, several salts per
// entry: pearsonC1[c0<<8|c1] holds salts 0 (checksum), 2, 3 and 11, which
// pair c0 with c1; pearsonC2 salts 5 and 7 (c0, c2); pearsonC3 salt 13
// (c0, c3). 448 KiB, built at init.
var (
	pearsonC1 [1 << 16]uint32
	pearsonC2 [1 << 16]uint16
	pearsonC3 [1 << 16]uint8
)

func init() {
	salts := [7]byte{0, 2, 3, 5, 7, 11, 13}
	for c0 := range 256 {
		for c := range 256 {
			p := func(k int) byte { return pearson[pearson[pearson[salts[k]]^byte(c0)]^byte(c)] }
			i := c0<<8 | c
			pearsonC1[i] = uint32(p(0)) | uint32(p(1))<<8 | uint32(p(2))<<16 | uint32(p(5))<<24
			pearsonC2[i] = uint16(p(3)) | uint16(p(4))<<8
			pearsonC3[i] = p(6)
		}
	}
}

// tlshAcc accumulates TLSH's bucket counts over a stream: a 5-byte sliding
// window, six salted Pearson hashes of byte triplets per position (c0 is
// the current byte, c1..c4 the previous ones: (c0,c1,c2) salt 2, (c0,c1,c3)
// 3, (c0,c2,c3) 5, (c0,c2,c4) 7, (c0,c1,c4) 11, (c0,c3,c4) 13), and a
// one-byte checksum, hash of (c0, c1, checksum) with salt 0.
type tlshAcc struct {
	buckets        [256]uint32
	c1, c2, c3, c4 byte // the four previous bytes, c1 the latest
	n              int64
	checksum       byte
}

func (a *tlshAcc) Write(p []byte) {
	c1, c2, c3, c4, sum := a.c1, a.c2, a.c3, a.c4, a.checksum
	i := 0
	for ; a.n+int64(i) < 4 && i < len(p); i++ {
		c4, c3, c2, c1 = c3, c2, c1, p[i]
	}
	t, b := &pearson, &a.buckets
	t1, t2, t3 := &pearsonC1, &pearsonC2, &pearsonC3
	for ; i < len(p); i++ {
		c0 := p[i]
		k := uint16(c0) << 8
		v := t1[k|uint16(c1)]
		sum = t[byte(v)^sum]
		b[t[byte(v>>8)^c2]]++
		b[t[byte(v>>16)^c3]]++
		b[t[byte(v>>24)^c4]]++
		w := t2[k|uint16(c2)]
		b[t[byte(w)^c3]]++
		b[t[byte(w>>8)^c4]]++
		b[t[t3[k|uint16(c3)]^c4]]++
		c4, c3, c2, c1 = c3, c2, c1, c0
	}
	a.n += int64(len(p))
	a.c1, a.c2, a.c3, a.c4, a.checksum = c1, c2, c3, c4, sum
}

// digest returns the TLSH hex digest, or "" when the input is too short or
// too uniform for one (fewer than half of the 128 buckets used, as the
// reference implementation requires).
func (a *tlshAcc) digest() string {
	if a.n < tlshMinBytes {
		return ""
	}
	var sorted [128]uint32
	copy(sorted[:], a.buckets[:128])
	nonzero := 0
	for _, v := range sorted {
		if v > 0 {
			nonzero++
		}
	}
	if nonzero <= 64 {
		return ""
	}
	sort.Slice(sorted[:], func(i, j int) bool { return sorted[i] < sorted[j] })
	q1, q2, q3 := sorted[31], sorted[63], sorted[95]
	if q3 == 0 {
		return ""
	}
	// The same float32 arithmetic as glaslos/tlsh, so digests agree exactly.
	q1Ratio := byte(float32(q1)*100/float32(q3)) % 16
	q2Ratio := byte(float32(q2)*100/float32(q3)) % 16
	out := make([]byte, 35)
	out[0] = swapNibbles(a.checksum)
	out[1] = swapNibbles(tlshLValue(a.n))
	out[2] = q1Ratio<<4 | q2Ratio
	for i := range 32 {
		var h byte
		for j := range 4 {
			switch k := a.buckets[4*i+j]; {
			case q3 < k:
				h += 3 << (2 * j)
			case q2 < k:
				h += 2 << (2 * j)
			case q1 < k:
				h += 1 << (2 * j)
			}
		}
		out[3+31-i] = h
	}
	return hex.EncodeToString(out)
}

func swapNibbles(b byte) byte { return b>>4 | b<<4 }

// tlshLValue is TLSH's logarithmic length code (glaslos/tlsh lValue).
func tlshLValue(n int64) byte {
	const log1_5, log1_3, log1_1 = 0.4054651, 0.26236426, 0.095310180
	l := float64(n)
	var v byte
	switch {
	case n <= 656:
		v = byte(math.Floor(math.Log(l) / log1_5))
	case n <= 3199:
		v = byte(math.Floor(math.Log(l)/log1_3 - 8.72777))
	default:
		v = byte(math.Floor(math.Log(l)/log1_1 - 62.5472))
	}
	return v % 255
}

// digester hashes one file's bytes for the hash signal.
type digester struct {
	t tlshAcc
	h hash.Hash
}

func newDigester() *digester { return &digester{h: sha256.New()} }

func (d *digester) Write(p []byte) {
	d.t.Write(p)
	d.h.Write(p)
}

func (d *digester) result(what string) fileDigest {
	return fileDigest{what: what, tlsh: d.t.digest(), sha256: hex.EncodeToString(d.h.Sum(nil))}
}

// fileDigest is a file's (or a decompressed member's) hashes. what is ""
// for the file itself, "gzip" for its decompressed content.
type fileDigest struct {
	what, tlsh, sha256 string
}

// KnownSample is a file known to be malicious, for the hash signal.
type KnownSample struct {
	// Name says what the sample is (LearnKnownSamples: the path in the
	// image it was learned from).
	Name string `json:"name"`
	// TLSH is the 70-hex-digit digest (glaslos/tlsh v0.3.0 String; a
	// leading "T1" is accepted); empty if the file had none.
	TLSH string `json:"tlsh,omitempty"`
	// SHA256 is the hex sha256 of the content; an equal sha256 matches
	// whatever the TLSH says.
	SHA256 string `json:"sha256,omitempty"`
	// Source says where it was learned (image, layer, diffID).
	Source string `json:"source,omitempty"`
}

// parseTLSH validates and parses a digest (70 hex digits, optional "T1").
func parseTLSH(s string) (*tlsh.TLSH, string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "t1")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 35 {
		return nil, "", fmt.Errorf("TLSH %q: want 70 hex digits", s)
	}
	t, err := tlsh.ParseStringToTlsh(s)
	if err != nil {
		return nil, "", fmt.Errorf("TLSH %q: %w", s, err)
	}
	return t, s, nil
}

func validSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// knownSet indexes known samples for matching: by sha256, and by TLSH
// length code, since digests whose length codes differ by 3 or more are at
// least 36 apart (TLSH adds 12 per step beyond the first).
type knownSet struct {
	samples []KnownSample
	bySHA   map[string]int
	byL     map[byte][]int
	parsed  []*tlsh.TLSH
	digest  string
	err     error
}

func (k *knownSet) len() int {
	if k == nil {
		return 0
	}
	return len(k.samples)
}

// WithKnownSamples sets the known samples the hash signal matches (default:
// none, and fuzzy-hash-match never fires). A sample with an invalid TLSH or
// sha256 makes Scan fail. The set is not part of the layer-cache key: a
// cached layer is matched against whatever set the scanning detector has.
func WithKnownSamples(ks []KnownSample) Option {
	return func(o *options) { o.known = newKnownSet(ks) }
}

func newKnownSet(ks []KnownSample) *knownSet {
	k := &knownSet{bySHA: map[string]int{}, byL: map[byte][]int{}}
	h := sha256.New()
	for i, s := range ks {
		s.TLSH = strings.TrimSpace(s.TLSH)
		s.SHA256 = strings.ToLower(strings.TrimSpace(s.SHA256))
		var t *tlsh.TLSH
		if s.TLSH != "" {
			var norm string
			var err error
			if t, norm, err = parseTLSH(s.TLSH); err != nil {
				k.err = fmt.Errorf("hierarchical: known sample %d (%s): %w", i, s.Name, err)
				return k
			}
			s.TLSH = norm
		}
		if s.SHA256 != "" && !validSHA256(s.SHA256) {
			k.err = fmt.Errorf("hierarchical: known sample %d (%s): sha256 %q: want 64 hex digits", i, s.Name, s.SHA256)
			return k
		}
		if s.TLSH == "" && s.SHA256 == "" {
			k.err = fmt.Errorf("hierarchical: known sample %d (%s): neither TLSH nor sha256", i, s.Name)
			return k
		}
		idx := len(k.samples)
		k.samples = append(k.samples, s)
		k.parsed = append(k.parsed, t)
		if s.SHA256 != "" {
			if _, dup := k.bySHA[s.SHA256]; !dup {
				k.bySHA[s.SHA256] = idx
			}
		}
		if t != nil {
			l := tlshLCode(s.TLSH)
			k.byL[l] = append(k.byL[l], idx)
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", s.Name, s.TLSH, s.SHA256)
	}
	k.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return k
}

// tlshLCode reads the length code from a validated digest (byte 1, nibbles
// swapped).
func tlshLCode(digest string) byte {
	b, _ := hex.DecodeString(digest[2:4])
	return swapNibbles(b[0])
}

// match returns the closest known sample of a file digest: an equal sha256
// (distance 0, exact) or the smallest TLSH distance <= FuzzyHashMaxDistance.
func (k *knownSet) match(d fileDigest) (sample KnownSample, dist int, exact, ok bool) {
	if k.len() == 0 {
		return KnownSample{}, 0, false, false
	}
	if i, hit := k.bySHA[d.sha256]; hit && d.sha256 != "" {
		return k.samples[i], 0, true, true
	}
	if d.tlsh == "" {
		return KnownSample{}, 0, false, false
	}
	t, norm, err := parseTLSH(d.tlsh)
	if err != nil {
		return KnownSample{}, 0, false, false
	}
	l := tlshLCode(norm)
	best := -1
	for _, dl := range []int{0, -1, 1, -2, 2} {
		for _, i := range k.byL[byte(int(l)+dl)] {
			if dd := t.Diff(k.parsed[i]); dd <= FuzzyHashMaxDistance && (best < 0 || dd < dist) {
				best, dist = i, dd
			}
		}
	}
	if best < 0 {
		return KnownSample{}, 0, false, false
	}
	return k.samples[best], dist, false, true
}

// addKnownMatches adds fuzzy-hash-match findings for a file's digests.
func (s *scan) addKnownMatches(l *layers.LayerInfo, e *layers.Entry, fr fileResult) {
	ks := s.d.opts.known
	if ks.len() == 0 || !s.d.opts.signalOn(SignalHash) {
		return
	}
	for _, d := range fr.digests {
		sample, dist, exact, ok := ks.match(d)
		if !ok {
			continue
		}
		what := "/" + e.Path
		if d.what != "" {
			what += " (" + d.what + " member)"
		}
		src := ""
		if sample.Source != "" {
			src = " from " + sample.Source
		}
		ev := fmt.Sprintf("%s: TLSH distance %d (<= %d) to known sample %s%s", what, dist, FuzzyHashMaxDistance, sample.Name, src)
		if exact {
			ev = fmt.Sprintf("%s: sha256 %s equals known sample %s%s", what, d.sha256[:16], sample.Name, src)
		}
		s.add(RuleFuzzyHash, l.Index, e.Path, "", e, clip(ev))
	}
}

// LearnKnownSamples computes the TLSH and sha256 of every ELF file and
// shell script (and of an ELF or script inside a gzip member) that the given
// layers of img add, including files a later layer deletes: the "first
// sighting", as the signature baselines learn it. Files under a .git
// directory are skipped (git's hook samples are the same in every clone).
// Files are read up to the walker's default file bound, as a scan reads
// them. Samples are deduplicated by sha256.
func LearnKnownSamples(ctx context.Context, img v1.Image, malicious []int) ([]KnownSample, error) {
	n, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("hierarchical: learn known samples: %w", err)
	}
	want := map[int]bool{}
	for _, l := range malicious {
		if l < 0 || l >= len(n) {
			return nil, fmt.Errorf("hierarchical: learn known samples: layer %d out of range (image has %d)", l, len(n))
		}
		want[l] = true
	}
	var out []KnownSample
	seen := map[string]bool{}
	fo := fileOpts{maxScriptBytes: DefaultMaxScriptBytes}
	visit := func(l *layers.LayerInfo, e *layers.Entry, r io.Reader) error {
		if !want[l.Index] || inGitDir(e.Path) {
			return nil
		}
		fr, err := analyzeFile(e, r, fo)
		if err != nil {
			return err
		}
		for _, d := range fr.digests {
			if seen[d.sha256] {
				continue
			}
			seen[d.sha256] = true
			name := "/" + e.Path
			if d.what != "" {
				name += " (" + d.what + " member)"
			}
			out = append(out, KnownSample{Name: name, TLSH: d.tlsh, SHA256: d.sha256,
				Source: fmt.Sprintf("layer %d %s", l.Index, l.DiffID)})
		}
		return nil
	}
	res, err := layers.Walk(ctx, img, visit)
	if err != nil {
		return nil, fmt.Errorf("hierarchical: learn known samples: %w", err)
	}
	for _, is := range res.Issues {
		if is.NotScanned() && want[is.Layer] {
			return nil, fmt.Errorf("hierarchical: learn known samples: layer %d not fully read: %s: %s", is.Layer, is.Kind, is.Detail)
		}
	}
	return out, nil
}

func inGitDir(p string) bool {
	for _, c := range strings.Split(path.Dir(p), "/") {
		if c == ".git" {
			return true
		}
	}
	return false
}

// maxKnownSampleLine bounds one line of a known-samples file.
const maxKnownSampleLine = 1 << 20

// WriteKnownSamples writes samples as JSON lines, one object per sample:
// {"name": ..., "tlsh": ..., "sha256": ..., "source": ...}.
func WriteKnownSamples(w io.Writer, ks []KnownSample) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, k := range ks {
		if err := enc.Encode(k); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadKnownSamples reads what WriteKnownSamples wrote. Blank lines and lines
// starting with # are skipped; a sample needs a valid TLSH or sha256.
func ReadKnownSamples(r io.Reader) ([]KnownSample, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxKnownSampleLine)
	var out []KnownSample
	for line := 1; sc.Scan(); line++ {
		b := strings.TrimSpace(sc.Text())
		if b == "" || strings.HasPrefix(b, "#") {
			continue
		}
		var k KnownSample
		dec := json.NewDecoder(strings.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&k); err != nil {
			return nil, fmt.Errorf("known samples line %d: %w", line, err)
		}
		if ks := newKnownSet([]KnownSample{k}); ks.err != nil {
			return nil, fmt.Errorf("known samples line %d: %w", line, ks.err)
		}
		out = append(out, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("known samples: %w", err)
	}
	return out, nil
}
