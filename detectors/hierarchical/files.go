package hierarchical

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/strata-sec/strata/internal/layers"
)

// fileKind decides which analysers read a file.
type fileKind int

const (
	kindOther fileKind = iota // other binary data (images, .pyc, PE): literal matchers only
	kindELF
	kindDoc    // documentation: indicators count only as doc-mining-reference
	kindScript // shell script: text rules plus shell structure
	kindText   // any other text: text rules
)

const (
	headSize  = 8 << 10
	chunkSize = 1 << 20
	// overlap between chunks; longer than any match the text rules report.
	overlap = 512
)

var pathDirs = map[string]bool{
	"bin": true, "sbin": true, "usr/bin": true, "usr/sbin": true, "usr/local/bin": true, "usr/local/sbin": true,
}

// fileResult is what a file's own bytes say: it depends only on the layer's
// content, the entry (path, type, mode, size) and the script limit, so it
// is cached with the layer (see cache.go).
// minerBinary is the evidence of a miner-binary hit ("" if none); hits are
// final (rule, evidence) pairs; digests are the hash signal's TLSH/sha256 of
// an ELF file or script (or of ones inside archives); runs is what a
// shell script runs, for the start chain.
type fileResult struct {
	minerBinary string
	hits        []hit
	digests     []fileDigest
	runs        scriptRuns
	kind        fileKind // how the content was classified (not cached)
}

// fileOpts are the bounds of the per-file analysis: the script limit is in
// the layer cache key, the archive bounds (archive.go; zero: defaults) are
// constants of the detector version.
type fileOpts struct {
	maxScriptBytes int64
	unpack         unpackLimits
}

func (d *Detector) fileOpts() fileOpts {
	return fileOpts{maxScriptBytes: d.opts.maxScriptBytes}
}

// AnalyzeFile analyses one regular file while its layer streams by
// (layers.FileAnalyzer): AnalyzeContent's analysis, then addFile.
func (s *scan) AnalyzeFile(l *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	fr, err := analyzeFile(e, r, s.d.fileOpts())
	if err != nil {
		return nil, err
	}
	s.addFile(l, e, fr)
	return fr.encode(), nil
}

var _ layers.ContentAnalyzer = (*scan)(nil)

// AnalyzeContent is the part of AnalyzeFile that reads only the file
// (layers.ContentAnalyzer): it touches no scan state, so the walker may run
// it for layers it reads ahead; ReplayFile adds the findings in layer order.
func (s *scan) AnalyzeContent(_ *layers.LayerInfo, e *layers.Entry, r io.Reader) ([]byte, error) {
	fr, err := analyzeFile(e, r, s.d.fileOpts())
	if err != nil {
		return nil, err
	}
	return fr.encode(), nil
}

// ReplayFile adds the findings of a file of a cached layer.
func (s *scan) ReplayFile(l *layers.LayerInfo, e *layers.Entry, result []byte) error {
	fr, err := decodeFileResult(result)
	if err != nil {
		return err
	}
	s.addFile(l, e, fr)
	return nil
}

// addFile turns a file's result into findings, adding what depends on the
// layer's history step (exec-added-path) here rather than in the cached
// result: the same layer can be added by different steps in other images.
// Known-sample matches depend on the detector's sample set, so they are
// made here too, never cached.
func (s *scan) addFile(l *layers.LayerInfo, e *layers.Entry, fr fileResult) {
	add := func(rule, ev string) { s.add(rule, l.Index, e.Path, "", e, ev) }
	if fr.minerBinary != "" {
		add(RuleMinerBinary, fr.minerBinary)
	}
	if e.Executable() && pathDirs[path.Dir(e.Path)] {
		// A base image's rootfs tarball (ADD file:... in /) is not "adding an
		// executable": every binary of the distribution would count.
		if st := l.Step(); (st.Instruction == "ADD" || st.Instruction == "COPY") && !addsRootfs(st.Args) {
			add(RuleExecAddedPath, fmt.Sprintf("%s added by %s %s", e.Path, st.Instruction, clip(st.Args)))
		}
	}
	for _, h := range fr.hits {
		add(h.rule, h.evidence)
	}
	s.addKnownMatches(l, e, fr)
	if len(fr.runs.progs) > 0 || len(fr.runs.reads) > 0 {
		s.scripts[e] = fr.runs
	}
}

// source is what stage 1 reads: a file of a layer, or content unpacked
// from one (archive.go), depth containers deep.
type source struct {
	path  string // classifies the content: the file's path, a member's name, a compressed file's name without .gz
	shown string // names it in evidence: the file's path, then "!member" per named archive member
	via   string // the formats unpacked to reach it ("gzip+tar"), "" for the file itself
	exec  bool
	mode  fs.FileMode
	size  int64 // 0 if unknown
	depth int
	// onlyCode: analyse only ELF files and shell scripts (members of
	// compressed documentation).
	onlyCode bool
	unpack   *unpackState // shared by everything unpacked from one file
	// rawClass: a Java class file already seen as one (javaclass.go);
	// its content is what analyzeJavaClass hands on.
	rawClass bool
}

// analyzeFile reads one file and returns what its content shows.
func analyzeFile(e *layers.Entry, r io.Reader, o fileOpts) (fileResult, error) {
	return analyzeStream(source{path: e.Path, shown: e.Path, exec: e.Executable(), mode: e.Mode, size: e.Size}, r, o)
}

// analyzeStream reads content once, in chunks: the first 8 KiB classify it
// (archives and compressed streams are unpacked instead, archive.go), then
// every chunk goes through the literal scanner, and the first
// unpackLimits.deep bytes through the hash signal's digests (ELF and
// scripts) and the ELF packing histograms; for scripts and persistence
// files the text up to the script limit is kept for the shell parser.
func analyzeStream(src source, r io.Reader, o fileOpts) (fileResult, error) {
	var fr fileResult
	// A buffer the size of the file, up to a chunk: most files are small,
	// and clearing a 1 MiB buffer for each was 14% of a cold scan. Tar
	// entries have exact sizes; members of unknown size get a chunk.
	capacity := chunkSize + overlap
	if src.size > 0 && src.size < chunkSize {
		capacity = max(int(src.size), headSize) + overlap
	}
	buf := make([]byte, headSize, capacity)
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fr, fmt.Errorf("read %s: %w", src.path, err)
	}
	buf = buf[:n]
	eof := n < headSize
	if f := sniffContainer(buf); f != "" {
		return analyzeArchive(src, f, buf, r, o)
	}
	if !src.rawClass && !src.onlyCode && isJavaClass(src.path, buf) {
		return analyzeJavaClass(src, buf, r, o)
	}
	kind := classify(src.path, buf)
	fr.kind = kind
	if src.onlyCode && kind != kindELF && kind != kindScript {
		return fr, nil
	}
	desc := ""
	if kind == kindELF {
		desc = " [" + elfDesc(buf) + "]"
	}
	if isMinerName(path.Base(src.path)) && (src.exec || kind == kindELF) {
		if src.depth == 0 {
			fr.minerBinary = fmt.Sprintf("%s (mode %v, %d bytes)", src.shown, src.mode.Perm(), src.size)
		} else {
			fr.minerBinary = fmt.Sprintf("%s (mode %v)", src.label(), src.mode.Perm())
		}
	}
	if n == 0 {
		return fr, nil
	}
	if src.depth == 0 && src.path == "etc/ld.so.preload" {
		// Every dynamically linked process loads these libraries first: a
		// process hider's place (gianlucaborello/libprocesshider; the
		// libsystem.so of Kinsing, TeamTNT's hiders).
		if libs := strings.Fields(string(buf[:min(n, 512)])); len(libs) > 0 {
			fr.hits = append(fr.hits, hit{RuleDefenseEvasion, clip("/etc/ld.so.preload preloads " + strings.Join(libs, " ") + " into every process")})
		}
	}

	// Binary data that is neither ELF nor an archive (a .pyc, a PE, a data
	// blob) gets the literal matchers only, over every byte: a pool URL or
	// wallet in it is evidence too, and zero runs cost nothing (allZero).
	pk := persistNone
	if src.depth == 0 && kind != kindOther {
		pk = persistenceKindOf(src.path)
	}
	eco := ""
	if kind == kindText || kind == kindDoc {
		if eco = manifestEcosystem(src.path); eco != "" {
			kind = kindText // requirements.txt is not documentation
		}
	}
	nodeConf := (kind == kindText || kind == kindDoc) && isNodeConf(src.path)
	keep := kind == kindScript || pk != persistNone || eco != "" || nodeConf
	var es *elfScan
	if kind == kindELF {
		es = parseELFHead(buf)
	}
	// The hash signal digests programs and scripts. Shared libraries
	// (ET_DYN without an interpreter, not executable: Debian ships them
	// 0644) are most of an image's ELF bytes and no miner is one; TLSH over
	// them cost 40% of a cold scan.
	var dg *digester
	if kind == kindScript || (kind == kindELF && !(es != nil && es.sharedLib && !src.exec)) {
		dg = newDigester()
	}
	var text []byte
	var webText []byte // a web file's first maxScriptBytes, for escaped strings (webescape.go)
	var b64 fileResult // files decoded from the script's base64 literals
	scriptCut := false
	deep := o.limits().deep
	ts := newTextScanner(kind == kindELF)
	ts.web = (kind == kindText || kind == kindDoc) && isWebFile(src.path)
	ts.wasm = bytes.HasPrefix(buf, wasmMagic)
	ts.text = kind == kindText
	first, kept := true, 0
	var off int64 // file offset of buf[0]
	for {
		if !eof {
			m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				eof = true
			case err != nil:
				return fr, fmt.Errorf("read %s: %w", src.path, err)
			}
		}
		fresh := buf[kept:]
		if at := off + int64(kept); at < deep {
			d := fresh[:min(int64(len(fresh)), deep-at)]
			if dg != nil {
				dg.Write(d)
			}
			if es != nil {
				es.update(at, d)
			}
		}
		if !first && allZero(fresh) {
			// A zero run holds no match: only the overlap's matches
			// reaching into it are completed.
			ts.scan(buf[:min(len(buf), kept+overlap)], false, eof)
		} else {
			ts.scan(buf, first, eof)
		}
		if ts.web && len(webText) < int(o.maxScriptBytes) {
			webText = append(webText, fresh[:min(len(fresh), int(o.maxScriptBytes)-len(webText))]...)
		}
		if keep {
			if room := int(o.maxScriptBytes) - len(text); len(fresh) > room {
				fresh, scriptCut = fresh[:max(room, 0)], true
			}
			text = append(text, fresh...)
		}
		if eof {
			break
		}
		off += int64(len(buf) - overlap)
		kept = copy(buf, buf[len(buf)-overlap:])
		buf = buf[:kept]
		first = false
	}

	hits := ts.finish()
	hits = append(hits, escapedWebHits(webText, hits)...)
	if size := off + int64(len(buf)); size > deep && (dg != nil || es != nil) {
		fr.hits = append(fr.hits, hit{RuleAnalysisBounded, fmt.Sprintf("digests and ELF entropy cover the first %d of %d bytes; the literal matchers read all of them", deep, size)})
	}
	if es != nil {
		if ev, packed := es.finish(buf, off); packed {
			hits = append(hits, hit{RuleELFPacked, clip(ev)})
		}
	}
	if eco != "" {
		hits = append(hits, manifestHits(eco, "/"+src.path, text)...)
	}
	if nodeConf {
		hits = append(hits, nodeConfHits(string(text))...)
	}
	if keep {
		if kind == kindScript || pk == persistScript {
			sc := parseShell(string(text))
			hits = append(hits, analyzeScript(sc, false)...)
			if src.depth == 0 {
				fr.runs = scriptRunsOf(sc)
			}
		}
		if pk != persistNone {
			hits = append(hits, persistenceHits(pk, "/"+src.path, string(text))...)
			if pk != persistScript && src.depth == 0 {
				// A cron table's, unit's or supervisord program's
				// commands start the start graph (startgraph.go).
				fr.runs = scriptRunsOf(parseShell(strings.Join(persistenceCommands(pk, string(text)), "\n")))
			}
		}
		hits = append(hits, base64Hits(string(text))...)
		if kind == kindScript || pk == persistScript {
			if b64, err = base64Files(src, string(text), o); err != nil {
				return fr, err
			}
		}
		if scriptCut {
			fr.hits = append(fr.hits, hit{RuleScriptTooLarge, fmt.Sprintf("only the first %d bytes of the script were parsed", o.maxScriptBytes)})
		}
	}
	for _, h := range hits {
		if kind == kindDoc && h.rule != RuleNotScanned && h.rule != RuleBrowserMiner {
			fr.hits = append(fr.hits, hit{RuleDocMiningReference, h.rule + ": " + h.evidence})
			continue
		}
		fr.hits = append(fr.hits, hit{h.rule, h.evidence + desc})
	}
	if dg != nil {
		fr.digests = append(fr.digests, dg.result(src.digestWhat()))
	}
	src.labelHits(fr.hits)
	// Files decoded from base64 literals carry their own labels.
	fr.hits = append(fr.hits, b64.hits...)
	fr.digests = append(fr.digests, b64.digests...)
	if fr.minerBinary == "" {
		fr.minerBinary = b64.minerBinary
	}
	return fr, nil
}

// errRecorder remembers the first error of the layer stream under a
// decompressor, so that read errors of the layer are not taken for a
// corrupt member.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// encode writes the result as tagged records: a tag byte, a uvarint count of
// strings, each string as uvarint length + bytes. 'm' minerBinary, 'h' rule
// and evidence of a hit, 'd' what/TLSH/sha256 of a digest, 'p' a program a
// script runs, 'c' a directory it changes into. Nothing to say is nil.
func (fr fileResult) encode() []byte {
	if fr.minerBinary == "" && len(fr.hits) == 0 && len(fr.digests) == 0 && len(fr.runs.progs) == 0 && len(fr.runs.dirs) == 0 && len(fr.runs.reads) == 0 {
		return nil
	}
	var b []byte
	rec := func(tag byte, ss ...string) {
		b = append(b, tag)
		b = binary.AppendUvarint(b, uint64(len(ss)))
		for _, s := range ss {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	if fr.minerBinary != "" {
		rec('m', fr.minerBinary)
	}
	for _, h := range fr.hits {
		rec('h', h.rule, h.evidence)
	}
	for _, d := range fr.digests {
		rec('d', d.what, d.tlsh, d.sha256)
	}
	for _, p := range fr.runs.progs {
		rec('p', p)
	}
	for _, c := range fr.runs.dirs {
		rec('c', c)
	}
	for _, r := range fr.runs.reads {
		rec('r', r)
	}
	return b
}

func decodeFileResult(b []byte) (fileResult, error) {
	var fr fileResult
	bad := func(why string) (fileResult, error) {
		return fileResult{}, fmt.Errorf("%w: hierarchical file result: %s", layers.ErrCacheRecord, why)
	}
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		n, ok := next()
		if !ok || n > uint64(len(b)) {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	want := map[byte]uint64{'m': 1, 'h': 2, 'd': 3, 'p': 1, 'c': 1, 'r': 1}
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		count, ok := next()
		if !ok || want[tag] == 0 || count != want[tag] {
			return bad(fmt.Sprintf("record %q with %d strings", tag, count))
		}
		ss := make([]string, count)
		for i := range ss {
			if ss[i], ok = str(); !ok {
				return bad("truncated")
			}
		}
		switch tag {
		case 'm':
			fr.minerBinary = ss[0]
		case 'h':
			if _, known := ruleByID[ss[0]]; !known {
				return bad("unknown rule " + ss[0])
			}
			fr.hits = append(fr.hits, hit{ss[0], ss[1]})
		case 'd':
			fr.digests = append(fr.digests, fileDigest{what: ss[0], tlsh: ss[1], sha256: ss[2]})
		case 'p':
			fr.runs.progs = append(fr.runs.progs, ss[0])
		case 'c':
			fr.runs.dirs = append(fr.runs.dirs, ss[0])
		case 'r':
			fr.runs.reads = append(fr.runs.reads, ss[0])
		}
	}
	return fr, nil
}

// classify looks at the path and the first bytes.
func classify(p string, head []byte) fileKind {
	switch {
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		return kindELF
	case bytes.IndexByte(head, 0) >= 0:
		return kindOther
	case isDoc(p):
		return kindDoc
	case isShellScript(p, head):
		return kindScript
	}
	return kindText
}

var docDirs = []string{"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/local/share/doc/", "usr/share/help/", "usr/share/gtk-doc/"}

var docExt = map[string]bool{".md": true, ".markdown": true, ".rst": true, ".txt": true, ".html": true, ".htm": true, ".adoc": true, ".pod": true, ".tex": true}

var docNames = []string{"readme", "changelog", "changes", "news", "history", "authors", "license", "copying", "faq", "todo", "contributing"}

// isDoc: documentation names pools, wallets and miners legitimately (crypto
// wallets' READMEs, blocklists' docs), so it only counts weakly.
func isDoc(p string) bool {
	for _, d := range docDirs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	base := strings.ToLower(path.Base(p))
	if docExt[path.Ext(base)] {
		return true
	}
	for _, n := range docNames {
		if strings.HasPrefix(base, n) {
			return true
		}
	}
	return false
}

func isShellScript(p string, head []byte) bool {
	switch path.Ext(p) {
	case ".sh", ".bash", ".ksh", ".zsh":
		return true
	}
	if !bytes.HasPrefix(head, []byte("#!")) {
		return false
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return false
	}
	interp := path.Base(f[0])
	if interp == "env" && len(f) > 1 {
		interp = f[1]
	}
	return shellNames[interp] || interp == "busybox"
}

// elfDesc names class and machine from the ELF header (debug/elf constants);
// the header is all that is needed, so the file is never parsed whole.
func elfDesc(b []byte) string {
	if len(b) < 20 {
		return "ELF"
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if elf.Data(b[elf.EI_DATA]) == elf.ELFDATA2MSB {
		bo = binary.BigEndian
	}
	return fmt.Sprintf("%s %s %s", elf.Class(b[elf.EI_CLASS]), elf.Type(bo.Uint16(b[16:18])), elf.Machine(bo.Uint16(b[18:20])))
}

// scanLinks reports links named like miners (links are never visited).
func (s *scan) scanLinks() {
	for _, p := range s.res.Paths() {
		for _, e := range s.res.Files[p].Versions() {
			if (e.Type == layers.TypeSymlink || e.Type == layers.TypeHardlink) && isMinerName(path.Base(e.Path)) {
				s.add(RuleMinerBinary, e.Layer, e.Path, "", e, fmt.Sprintf("%s %s -> %s", e.Type, e.Path, e.Linkname))
			}
		}
	}
}

// addsRootfs reports whether ADD/COPY arguments target the root directory.
func addsRootfs(args string) bool {
	f := strings.Fields(args)
	return len(f) > 0 && path.Clean(f[len(f)-1]) == "/"
}
