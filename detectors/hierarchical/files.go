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

// visit analyses one regular file while its layer streams by.
func (s *scan) visit(l *detectors.LayerInfo, e *detectors.Entry, r io.Reader) error {
	buf := make([]byte, headSize, chunkSize+overlap)
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read %s: %w", e.Path, err)
	}
	buf = buf[:n]
	eof := n < headSize
	kind := classify(e.Path, buf)
	desc := ""
	if kind == kindELF {
		desc = " [" + elfDesc(buf) + "]"
	}
	base := path.Base(e.Path)
	add := func(rule, ev string) { s.add(rule, l.Index, e.Path, "", e, ev) }

	if isMinerName(base) && (e.Executable() || kind == kindELF) {
		add(RuleMinerBinary, fmt.Sprintf("%s (mode %v, %d bytes)", e.Path, e.Mode.Perm(), e.Size))
	}
	if e.Executable() && pathDirs[path.Dir(e.Path)] {
		// A base image's rootfs tarball (ADD file:... in /) is not "adding an
		// executable": every binary of the distribution would count.
		if st := l.Step(); (st.Instruction == "ADD" || st.Instruction == "COPY") && !addsRootfs(st.Args) {
			add(RuleExecAddedPath, fmt.Sprintf("%s added by %s %s", e.Path, st.Instruction, clip(st.Args)))
		}
	}
	if kind == kindOther || n == 0 {
		return nil
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
				return fmt.Errorf("read %s: %w", e.Path, err)
			}
		}
		ts.scan(buf, first, eof)
		if keep {
			fresh := buf[kept:]
			if room := int(s.d.opts.maxScriptBytes) - len(text); len(fresh) > room {
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
			add(RuleScriptTooLarge, fmt.Sprintf("only the first %d bytes of the script were parsed", s.d.opts.maxScriptBytes))
		}
	}
	for _, h := range hits {
		if kind == kindDoc {
			add(RuleDocMiningReference, h.rule+": "+h.evidence)
			continue
		}
		add(h.rule, h.evidence+desc)
	}
	return nil
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
