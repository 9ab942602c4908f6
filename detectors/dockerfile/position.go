package dockerfile

// Positions. A finding of an instruction's text points at the physical
// line and column where its evidence starts, not at the instruction's
// first line: a RUN that continues over several lines (a backslash at the
// end of each) is one logical line to BuildKit, and its history text is
// that logical line. span keeps both views of one instruction: the logical
// text, where evidence is searched, and the physical text, which
// mvdan.cc/sh parses so that its positions are the Dockerfile's lines.

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"mvdan.cc/sh/v3/syntax"

	"github.com/strata-sec/strata/detectors/hierarchical"
	dfmodel "github.com/strata-sec/strata/internal/dockerfile"
)

// span is one instruction's text in two views. src is the physical text
// with every byte at its line and column: the keyword and flags blanked,
// continuation characters made shell backslashes, comment and empty lines
// inside a continuation made empty continuations (BuildKit drops them).
// logical is the text as BuildKit joins it; at[i] is logical[i]'s offset
// in src. body is where the instruction's arguments start in src.
type span struct {
	first   int // physical line of src[0]
	src     []byte
	logical []byte
	at      []int
	body    int
}

func newSpan(f *dfmodel.File, n *parser.Node) *span {
	if n.StartLine < 1 || n.EndLine > len(f.Lines) || n.StartLine > n.EndLine {
		return nil
	}
	esc := byte('\\')
	if f.Escape == '`' {
		esc = '`'
	}
	s := &span{first: n.StartLine}
	add := func(b []byte, logical bool) {
		for _, c := range b {
			if logical {
				s.logical = append(s.logical, c)
				s.at = append(s.at, len(s.src))
			}
			s.src = append(s.src, c)
		}
	}
	inCont := true // still inside the instruction's logical line
	for i, line := range f.Lines[n.StartLine-1 : n.EndLine] {
		content := strings.TrimRight(line, "\r\n")
		switch {
		case !inCont: // heredoc bodies: as written
			add([]byte(line), true)
		case i > 0 && (strings.TrimSpace(content) == "" || strings.HasPrefix(strings.TrimLeft(content, " \t"), "#")):
			s.src = append(s.src, strings.Repeat(" ", len(content))+"\\\n"...)
		default:
			trimmed := strings.TrimRight(content, " \t")
			if cont := strings.HasSuffix(trimmed, string(esc)) && !strings.HasSuffix(trimmed, string([]byte{esc, esc})); cont {
				add([]byte(trimmed[:len(trimmed)-1]), true)
				s.src = append(s.src, '\\', '\n')
				continue
			}
			inCont = false
			add([]byte(line), true)
		}
	}
	// Blank the keyword and the flags (--mount=..., --chmod=...) so the
	// shell parses only the command.
	p := s.skipSpace(0)
	if p+len(n.Value) <= len(s.src) && strings.EqualFold(string(s.src[p:p+len(n.Value)]), n.Value) {
		s.blank(p, p+len(n.Value))
		p += len(n.Value)
	}
	for _, fl := range n.Flags {
		q := s.skipSpace(p)
		if !bytes.HasPrefix(s.src[q:], []byte(fl)) {
			break
		}
		s.blank(q, q+len(fl))
		p = q + len(fl)
	}
	s.body = s.skipSpace(p)
	return s
}

// skipSpace skips blanks and shell line continuations from src offset p.
func (s *span) skipSpace(p int) int {
	for p < len(s.src) {
		switch {
		case s.src[p] == ' ' || s.src[p] == '\t' || s.src[p] == '\n' || s.src[p] == '\r':
			p++
		case s.src[p] == '\\' && p+1 < len(s.src) && s.src[p+1] == '\n':
			p += 2
		default:
			return p
		}
	}
	return p
}

func (s *span) blank(from, to int) {
	for i := from; i < to; i++ {
		s.src[i] = ' '
	}
}

// pos is the physical line and 1-based column (in characters) of src
// offset off.
func (s *span) pos(off int) (line, col int) {
	before := s.src[:off]
	nl := bytes.LastIndexByte(before, '\n')
	return s.first + bytes.Count(before, []byte{'\n'}), utf8.RuneCount(before[nl+1:]) + 1
}

// locate is where evidence ev starts in the instruction: in a shell-form
// RUN, the first command (or word) whose words, quotes removed as the
// detector renders them, are ev or begin it; else the first occurrence of
// ev in the logical text after the keyword. ok is false when neither
// finds it (evidence the detector composed, such as "ENTRYPOINT starts
// ...").
func (s *span) locate(n *parser.Node, ev string) (line, col int, ok bool) {
	if s == nil || ev == "" {
		return 0, 0, false
	}
	shellForm := dfmodel.Is(n, "run") || dfmodel.Is(n, "cmd") || dfmodel.Is(n, "entrypoint")
	if shellForm && !n.Attributes["json"] {
		if off, ok := s.locateShell(ev); ok {
			line, col = s.pos(off)
			return line, col, true
		}
	}
	start := 0
	for start < len(s.at) && s.at[start] < s.body {
		start++
	}
	if i := bytes.Index(s.logical[start:], []byte(ev)); i >= 0 {
		line, col = s.pos(s.at[start+i])
		return line, col, true
	}
	if shellForm && n.Attributes["json"] {
		// Exec form: the array element that starts the evidence (the
		// detector quotes the argv joined by spaces).
		first := strings.Fields(ev)[0]
		for e := n.Next; e != nil; e = e.Next {
			q := []byte(strconv.Quote(e.Value))
			i := bytes.Index(s.logical[start:], q)
			if i < 0 {
				break
			}
			if e.Value == first {
				line, col = s.pos(s.at[start+i])
				return line, col, true
			}
			start += i + len(q)
		}
	}
	return 0, 0, false
}

// locateShell parses the RUN's physical text (and the body of a bare
// `RUN <<EOF` heredoc, which BuildKit runs as the script) and returns the
// src offset of the first command matching ev.
func (s *span) locateShell(ev string) (int, bool) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(s.src), "")
	if err != nil {
		return 0, false
	}
	if off, ok := matchCommand(f, string(s.src), ev, 0); ok {
		return off, true
	}
	for _, st := range f.Stmts {
		if st.Cmd != nil {
			continue
		}
		for _, r := range st.Redirs {
			if r.Hdoc == nil || (r.Op != syntax.Hdoc && r.Op != syntax.DashHdoc) {
				continue
			}
			from, to := int(r.Hdoc.Pos().Offset()), int(r.Hdoc.End().Offset())
			body, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(s.src[from:to]), "")
			if err != nil {
				continue
			}
			if off, ok := matchCommand(body, string(s.src[from:to]), ev, from); ok {
				return off, true
			}
		}
	}
	return 0, false
}

// matchCommand is the offset (plus base) of the first simple command in f
// (parsed from src) whose words, rendered as the hierarchical detector
// quotes them, equal ev, begin it (a pipeline or list the detector quotes
// whole) or are begun by it.
func matchCommand(f *syntax.File, src, ev string, base int) (int, bool) {
	off, found := 0, false
	syntax.Walk(f, func(node syntax.Node) bool {
		if found {
			return false
		}
		c, ok := node.(*syntax.CallExpr)
		if !ok || len(c.Args) == 0 {
			return true
		}
		words := make([]string, len(c.Args))
		for i, w := range c.Args {
			words[i] = hierarchical.RenderWord(src, w)
		}
		text := strings.Join(words, " ")
		if text == ev || strings.HasPrefix(ev, text+" ") || strings.HasPrefix(text, ev+" ") {
			off, found = base+int(c.Args[0].Pos().Offset()), true
			return false
		}
		return true
	})
	return off, found
}
