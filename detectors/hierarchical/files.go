package hierarchical

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/strata-sec/strata/detectors"
)

// fileKind decides which analysers read a file.
type fileKind int

const (
	kindOther fileKind = iota // binary data we do not analyse (archives, images, .pyc)
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
// content, the entry (path, type, mode, size) and the script limit, so it is
// cached with the layer (see cache.go). minerBinary is the evidence of a
// miner-binary hit ("" if none); hits are final (rule, evidence) pairs.
type fileResult struct {
	minerBinary string
	hits        []hit
}

// AnalyzeFile analyses one regular file while its layer streams by
// (detectors.FileAnalyzer).
func (s *scan) AnalyzeFile(l *detectors.LayerInfo, e *detectors.Entry, r io.Reader) ([]byte, error) {
	fr, err := analyzeFile(e, r, s.d.opts.maxScriptBytes)
	if err != nil {
		return nil, err
	}
	s.addFile(l, e, fr)
	return fr.encode(), nil
}

// ReplayFile adds the findings of a file of a cached layer.
func (s *scan) ReplayFile(l *detectors.LayerInfo, e *detectors.Entry, result []byte) error {
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
func (s *scan) addFile(l *detectors.LayerInfo, e *detectors.Entry, fr fileResult) {
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
}

// analyzeFile reads one file and returns what its content shows.
func analyzeFile(e *detectors.Entry, r io.Reader, maxScriptBytes int64) (fileResult, error) {
	var fr fileResult
	buf := make([]byte, headSize, chunkSize+overlap)
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fr, fmt.Errorf("read %s: %w", e.Path, err)
	}
	buf = buf[:n]
	eof := n < headSize
	kind := classify(e.Path, buf)
	desc := ""
	if kind == kindELF {
		desc = " [" + elfDesc(buf) + "]"
	}
	if isMinerName(path.Base(e.Path)) && (e.Executable() || kind == kindELF) {
		fr.minerBinary = fmt.Sprintf("%s (mode %v, %d bytes)", e.Path, e.Mode.Perm(), e.Size)
	}
	if kind == kindOther || n == 0 {
		return fr, nil
	}

	pk := persistenceKindOf(e.Path)
	keep := kind == kindScript || pk != persistNone
	var text []byte
	scriptCut := false
	ts := newTextScanner(kind == kindELF)
	first, kept := true, 0
	for {
		if !eof {
			m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				eof = true
			case err != nil:
				return fr, fmt.Errorf("read %s: %w", e.Path, err)
			}
		}
		ts.scan(buf, first, eof)
		if keep {
			fresh := buf[kept:]
			if room := int(maxScriptBytes) - len(text); len(fresh) > room {
				fresh, scriptCut = fresh[:max(room, 0)], true
			}
			text = append(text, fresh...)
		}
		if eof {
			break
		}
		kept = copy(buf, buf[len(buf)-overlap:])
		buf = buf[:kept]
		first = false
	}

	hits := ts.finish()
	if keep {
		if kind == kindScript || pk == persistScript {
			hits = append(hits, analyzeScript(parseShell(string(text)), false)...)
		}
		if pk != persistNone {
			hits = append(hits, persistenceHits(pk, "/"+e.Path, string(text))...)
		}
		if scriptCut {
			fr.hits = append(fr.hits, hit{RuleScriptTooLarge, fmt.Sprintf("only the first %d bytes of the script were parsed", maxScriptBytes)})
		}
	}
	for _, h := range hits {
		if kind == kindDoc {
			fr.hits = append(fr.hits, hit{RuleDocMiningReference, h.rule + ": " + h.evidence})
			continue
		}
		fr.hits = append(fr.hits, hit{h.rule, h.evidence + desc})
	}
	return fr, nil
}

// encode: uvarint count of strings, then each as uvarint length + bytes:
// minerBinary, then rule and evidence of every hit. Nothing to say is nil.
func (fr fileResult) encode() []byte {
	if fr.minerBinary == "" && len(fr.hits) == 0 {
		return nil
	}
	b := binary.AppendUvarint(nil, uint64(1+2*len(fr.hits)))
	put := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	put(fr.minerBinary)
	for _, h := range fr.hits {
		put(h.rule)
		put(h.evidence)
	}
	return b
}

func decodeFileResult(b []byte) (fileResult, error) {
	var fr fileResult
	if len(b) == 0 {
		return fr, nil
	}
	bad := func(why string) (fileResult, error) {
		return fileResult{}, fmt.Errorf("%w: hierarchical file result: %s", detectors.ErrCacheRecord, why)
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
	count, ok := next()
	if !ok || count == 0 || count%2 != 1 || count > uint64(len(b)) {
		return bad("count")
	}
	if fr.minerBinary, ok = str(); !ok {
		return bad("truncated")
	}
	for k := uint64(1); k < count; k += 2 {
		var h hit
		if h.rule, ok = str(); !ok {
			return bad("truncated")
		}
		if _, known := ruleByID[h.rule]; !known {
			return bad("unknown rule " + h.rule)
		}
		if h.evidence, ok = str(); !ok {
			return bad("truncated")
		}
		fr.hits = append(fr.hits, h)
	}
	if len(b) != 0 {
		return bad("trailing bytes")
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
			if (e.Type == detectors.TypeSymlink || e.Type == detectors.TypeHardlink) && isMinerName(path.Base(e.Path)) {
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
