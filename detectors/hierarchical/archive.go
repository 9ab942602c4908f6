package hierarchical

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Archives and compressed files inside layers are unpacked recursively, as
// `tar xf`, `unzip` or `gunzip` in an entrypoint would, and their content
// goes through analyzeStream like a file: an ELF inside xmrig.tar.gz is an
// ELF (miner-binary name, strings, digests, packing), a script a script.
// Formats are recognised by magic bytes (decompress.go). Evidence names the
// path inside the archive, "/opt/x.tgz!xmrig-6.21.0/xmrig (gzip+tar)": "!"
// separates a member name (tar, zip, gzip's FNAME) from its archive and the
// formats unpacked follow in parentheses.
//
// Only the recursion is bounded, never the cheap scan of a file's own
// bytes: nesting depth, the bytes decompressors produce per top-level file
// (runs of zero bytes not counted: they cost nothing to match, and sparse
// images are made of them; a larger bound caps all bytes, zeros included),
// members per archive and the in-memory buffer a zip needs (archive/zip
// reads the central directory at the end). A bound that stops the
// recursion, a corrupt or truncated stream (analysed as far as it reads),
// an encrypted or unsupported zip member: each is an archive-not-scanned
// finding, so a verdict below threshold is incomplete, never clean.
//
// Which bounds make a verdict incomplete: only those that leave content no
// matcher saw (the recursion bounds above, the walker's limits). Bounds on
// deeper analyses of content the literal matchers did read — TLSH/sha256
// digests and ELF segment histograms over the first maxDeepBytes, the
// shell parse over the script limit, digests kept per archive — are
// informational findings of weight 0 (analysis-bounded, script-too-large).

// unpackLimits bound the recursion (and the deep analyses) per top-level
// file. Zero fields take the defaults (see limits).
type unpackLimits struct {
	depth   int   // containers opened inside one another
	work    int64 // decompressed bytes outside zero runs, per file
	total   int64 // decompressed bytes, zero runs included, per file
	members int   // members per archive
	zipBuf  int64 // bytes of zip archives held in memory at once, per file
	deep    int64 // bytes digested and histogrammed per file or member
	digests int   // digests kept per archive
}

const (
	defaultArchiveDepth   = 4
	defaultInflateWork    = 1 << 30
	defaultInflateTotal   = 8 << 30
	defaultArchiveMembers = 100_000
	defaultZipBuffer      = 64 << 20
	defaultDeepBytes      = 64 << 20
	defaultArchiveDigests = 256
	// zeroRun is the block size of the zero-run rule: an all-zero block of
	// decompressed output is not counted as work.
	zeroRun = 512
)

func (o fileOpts) limits() unpackLimits {
	l := o.unpack
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.depth <= 0 {
		l.depth = defaultArchiveDepth
	}
	if l.members <= 0 {
		l.members = defaultArchiveMembers
	}
	if l.digests <= 0 {
		l.digests = defaultArchiveDigests
	}
	def(&l.work, defaultInflateWork)
	def(&l.total, defaultInflateTotal)
	def(&l.zipBuf, defaultZipBuffer)
	def(&l.deep, defaultDeepBytes)
	return l
}

// unpackState is shared by everything unpacked from one top-level file.
type unpackState struct {
	lim      unpackLimits
	top      string // the file's path
	size     int64  // the file's size
	read     int64  // bytes of the file consumed so far
	work     int64
	total    int64
	zipHeld  int64
	full     string // the bound that stopped decompression, "" while within
	reported bool   // the budget finding was made
}

func (st *unpackState) count(b []byte) {
	st.total += int64(len(b))
	for len(b) > 0 {
		k := min(len(b), zeroRun)
		if !allZero(b[:k]) {
			st.work += int64(k)
		}
		b = b[k:]
	}
	switch {
	case st.work > st.lim.work:
		st.full = fmt.Sprintf("inflate budget of %d bytes outside zero runs per file", st.lim.work)
	case st.total > st.lim.total:
		st.full = fmt.Sprintf("inflate bound of %d bytes per file, zero runs included", st.lim.total)
	}
}

var zeroBlock [4096]byte

func allZero(b []byte) bool {
	for len(b) > 0 {
		k := min(len(b), len(zeroBlock))
		if !bytes.Equal(b[:k], zeroBlock[:k]) {
			return false
		}
		b = b[k:]
	}
	return true
}

// fileCounter counts the bytes of the top-level file consumed.
type fileCounter struct {
	r  io.Reader
	st *unpackState
}

func (c fileCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.st.read += int64(n)
	return n, err
}

// inflated counts a decompressor's output against the file's budget, ends
// the content when the budget is spent, and turns decompression errors into
// the end of the content (kept in err).
type inflated struct {
	r    io.Reader
	st   *unpackState
	n    int64 // bytes produced
	done bool  // the decompressor reached its end
	cut  bool  // the budget ended the content before the decompressor did
	err  error
}

func (z *inflated) Read(p []byte) (int, error) {
	if z.done || z.err != nil {
		return 0, io.EOF
	}
	if z.st.full != "" {
		z.cut = true
		return 0, io.EOF
	}
	n, err := z.r.Read(p)
	z.n += int64(n)
	z.st.count(p[:n])
	switch {
	case errors.Is(err, io.EOF):
		z.done = true
	case err != nil:
		z.err = err
		return n, io.EOF
	}
	return n, err
}

// label names content in evidence: "/opt/x.tgz!a/b (gzip+tar)".
func (s source) label() string {
	l := "/" + s.shown
	if s.via != "" {
		l += " (" + s.via + ")"
	}
	return l
}

// digestWhat is fileDigest.what for content at src: "" for a file itself,
// else the formats and the path inside the file ("gzip+tar!xmrig/xmrig").
func (s source) digestWhat() string {
	if s.depth == 0 || s.unpack == nil {
		return ""
	}
	return s.via + strings.TrimPrefix(s.shown, s.unpack.top)
}

// labelHits prefixes the evidence of content inside an archive with its
// label.
func (s source) labelHits(hits []hit) {
	if s.depth == 0 {
		return
	}
	for i := range hits {
		hits[i].evidence = clip(s.label() + ": " + hits[i].evidence)
	}
}

func joinVia(via string, f containerFormat) string {
	if via == "" {
		return string(f)
	}
	return via + "+" + string(f)
}

// unpacked collects the results of an archive's members, with the per-rule
// cap of a verdict (more findings of one rule add nothing to the score) and
// a bound on digests.
type unpacked struct {
	fr        fileResult
	perRule   map[string]int
	lim       unpackLimits
	dropped   int // digests not kept
	notScan   func(string)
	container source
}

func newUnpacked(src source) *unpacked {
	u := &unpacked{perRule: map[string]int{}, lim: src.unpack.lim, container: src}
	u.notScan = func(why string) { u.add(hit{RuleArchiveNotScanned, clip(src.label() + ": " + why)}) }
	return u
}

func (u *unpacked) add(h hit) {
	if u.perRule[h.rule] >= maxFindingsPerRule {
		return
	}
	u.perRule[h.rule]++
	u.fr.hits = append(u.fr.hits, h)
}

func (u *unpacked) absorb(in fileResult) {
	if u.fr.minerBinary == "" {
		u.fr.minerBinary = in.minerBinary
	}
	for _, h := range in.hits {
		u.add(h)
	}
	for _, d := range in.digests {
		if len(u.fr.digests) >= u.lim.digests {
			u.dropped++
			continue
		}
		u.fr.digests = append(u.fr.digests, d)
	}
}

func (u *unpacked) result() fileResult {
	if u.dropped > 0 {
		u.add(hit{RuleAnalysisBounded, clip(fmt.Sprintf("%s: digests of %d more ELF files or scripts not kept (bound %d per archive); their content was scanned",
			u.container.label(), u.dropped, u.lim.digests))})
	}
	return u.fr
}

// stopped reports the content a decompressor did not deliver: the budget
// (once per file) or a corrupt or truncated stream.
func (u *unpacked) stopped(z *inflated, f containerFormat) {
	st := u.container.unpack
	switch {
	case z.cut && !st.reported:
		st.reported = true
		u.notScan(fmt.Sprintf("%s content beyond %d decompressed bytes not analysed (%s); %d of %d bytes of the file read",
			f, z.n, st.full, st.read, st.size))
	case z.err != nil && st.full == "":
		u.notScan(fmt.Sprintf("%s stream corrupt or truncated after %d decompressed bytes (%v): analysed up to there", f, z.n, z.err))
	}
}

// analyzeArchive unpacks content that starts with the magic of f (head is
// its first bytes, r the rest).
func analyzeArchive(src source, f containerFormat, head []byte, r io.Reader, o fileOpts) (fileResult, error) {
	var outer *errRecorder
	if src.unpack == nil {
		src.unpack = &unpackState{lim: o.limits(), top: src.shown, size: src.size, read: int64(len(head))}
		outer = &errRecorder{r: r}
		r = fileCounter{r: outer, st: src.unpack}
	}
	u := newUnpacked(src)
	if src.depth >= u.lim.depth {
		u.notScan(fmt.Sprintf("%s nested %d archives deep, not unpacked (depth limit %d)", f, src.depth, u.lim.depth))
		return u.result(), nil
	}
	in := io.MultiReader(bytes.NewReader(head), r)
	var err error
	switch f {
	case fmtTar:
		err = unpackTar(u, src, in, o)
	case fmtZip:
		err = unpackZip(u, src, in, o)
	default:
		err = unpackStream(u, src, f, head, in, o)
	}
	if outer != nil && outer.err != nil {
		return fileResult{}, fmt.Errorf("read %s: %w", src.path, outer.err)
	}
	if err != nil {
		return fileResult{}, err
	}
	return u.result(), nil
}

// streamName is the name of a compressed file's content: gzip's FNAME if
// it is a plain name, else the file name without its compression suffix.
func streamName(p, fname string) (name string, recorded bool) {
	if fname != "" && fname != "." && fname != ".." && !strings.ContainsAny(fname, "/\\\x00") {
		return fname, true
	}
	base := path.Base(p)
	lower := strings.ToLower(base)
	for _, s := range []struct{ ext, repl string }{
		{".tgz", ".tar"}, {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"}, {".tzst", ".tar"},
		{".gz", ""}, {".bz2", ""}, {".xz", ""}, {".zst", ""}, {".zstd", ""},
	} {
		if strings.HasSuffix(lower, s.ext) && len(base) > len(s.ext) {
			return base[:len(base)-len(s.ext)] + s.repl, false
		}
	}
	return base, false
}

func unpackStream(u *unpacked, src source, f containerFormat, head []byte, in io.Reader, o fileOpts) error {
	dec, fname, err := decompressor(f, head, in)
	if err != nil {
		u.notScan(fmt.Sprintf("%s stream not decoded (%v)", f, err))
		return nil
	}
	defer dec.Close()
	name, recorded := streamName(src.path, fname)
	child := src
	child.path = path.Join(path.Dir(src.path), name)
	if recorded {
		child.shown = src.shown + "!" + name
	}
	child.via = joinVia(src.via, f)
	child.size = 0 // unknown
	child.depth = src.depth + 1
	child.onlyCode = src.onlyCode || (src.depth == 0 && isDoc(src.path))
	z := &inflated{r: dec, st: src.unpack}
	inner, err := analyzeStream(child, z, o)
	if err != nil {
		return err
	}
	u.absorb(inner)
	u.stopped(z, f)
	return nil
}

// member returns the source of an archive member.
func (s source) member(f containerFormat, name string, mode fs.FileMode, size int64) source {
	clean := strings.TrimLeft(path.Clean("/"+name), "/")
	return source{
		path:     clean,
		shown:    s.shown + "!" + clean,
		via:      joinVia(s.via, f),
		exec:     mode&0o111 != 0,
		mode:     mode,
		size:     size,
		depth:    s.depth + 1,
		onlyCode: s.onlyCode || (s.depth == 0 && isDoc(s.path)),
		unpack:   s.unpack,
	}
}

func unpackTar(u *unpacked, src source, in io.Reader, o fileOpts) error {
	st := src.unpack
	tr := tar.NewReader(in)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if st.full == "" {
				u.notScan(fmt.Sprintf("tar corrupt or truncated after %d members (%v): analysed up to there", n, err))
			}
			return nil
		}
		if n >= u.lim.members {
			u.notScan(fmt.Sprintf("tar has more than %d members: the rest not analysed (%d of %d bytes of the file read)", u.lim.members, st.read, st.size))
			return nil
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse: // archive/tar reports TypeRegA as TypeReg
		default:
			continue
		}
		child := src.member(fmtTar, hdr.Name, fs.FileMode(hdr.Mode).Perm(), hdr.Size)
		inner, err := analyzeStream(child, tr, o)
		if err != nil {
			return err
		}
		u.absorb(inner)
	}
}

func unpackZip(u *unpacked, src source, in io.Reader, o fileOpts) error {
	st := src.unpack
	room := st.lim.zipBuf - st.zipHeld
	if src.size > room {
		u.notScan(fmt.Sprintf("zip of %d bytes exceeds the %d-byte in-memory zip bound: not unpacked", src.size, st.lim.zipBuf))
		return nil
	}
	buf, err := io.ReadAll(io.LimitReader(in, room+1))
	if err != nil {
		return err
	}
	if int64(len(buf)) > room {
		u.notScan(fmt.Sprintf("zip of more than %d bytes exceeds the %d-byte in-memory zip bound: not unpacked", room, st.lim.zipBuf))
		return nil
	}
	st.zipHeld += int64(len(buf))
	defer func() { st.zipHeld -= int64(len(buf)) }()
	zr, err := zip.NewReader(bytes.NewReader(buf), int64(len(buf)))
	if err != nil {
		u.notScan(fmt.Sprintf("zip not readable (%v): not unpacked", err))
		return nil
	}
	zr.RegisterDecompressor(12, func(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) })
	zr.RegisterDecompressor(93, func(r io.Reader) io.ReadCloser {
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return zstdCloser{d}
	})
	zr.RegisterDecompressor(95, func(r io.Reader) io.ReadCloser {
		x, err := xz.NewReader(r)
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return io.NopCloser(x)
	})
	for n, zf := range zr.File {
		if n >= u.lim.members {
			u.notScan(fmt.Sprintf("zip has %d members, more than %d: the rest not analysed", len(zr.File), u.lim.members))
			return nil
		}
		mode := zf.Mode()
		if !mode.IsRegular() || strings.HasSuffix(zf.Name, "/") {
			continue
		}
		child := src.member(fmtZip, zf.Name, mode.Perm(), int64(min(zf.UncompressedSize64, 1<<62)))
		if zf.Flags&1 != 0 {
			u.notScan(fmt.Sprintf("zip member %s is encrypted: not analysed", child.path))
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			u.notScan(fmt.Sprintf("zip member %s not opened (%v): not analysed", child.path, err))
			continue
		}
		z := &inflated{r: rc, st: st}
		inner, err := analyzeStream(child, z, o)
		rc.Close()
		if err != nil {
			return err
		}
		u.absorb(inner)
		u.stopped(z, fmtZip)
		if st.full != "" {
			return nil
		}
	}
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
