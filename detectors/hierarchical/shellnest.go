package hierarchical

import (
	"strconv"
	"strings"
)

// Nesting bounds. mvdan.cc/sh parses nested subshells, command and
// arithmetic substitutions, blocks and parameter expansions by recursion,
// so 300k nested "(" or "$(" grow the goroutine stack past Go's 1 GB limit:
// a fatal error no recover() catches. Parsing also gets slow long before that
// (10k nested "(" take a second). Shell text is therefore pre-scanned in one
// linear pass and not parsed when it nests deeper than maxShellNesting (no
// script anyone writes by hand nests 256 levels), or when it holds more than
// maxShellOpeners opening brackets in total: a hard ceiling on the parser's
// depth that holds even for text crafted to mislead the pre-scan's lexer.
const (
	maxShellNesting = 256
	maxShellOpeners = 1 << 15
)

// nestFrame is one open level: '(' for ( $( <( >( and each paren of $(( and
// ((; '{' for { and ${; '`' for a backquote substitution; '"' for a
// double-quoted string. arith frames come from (( and $((: no comments or
// here-documents inside. cases counts open case statements at this level,
// whose pattern ")" closes nothing.
type nestFrame struct {
	kind  byte
	arith bool
	cases int
}

// shellNestingExceeded reports why src must not be given to the shell parser,
// or "" if it may be. It lexes quoting the way the parser does (single,
// double and $'...' quotes, backslash escapes, comments, here-document
// bodies, case patterns) so that brackets inside strings neither open nor
// close a level; closers only close a level of their own kind.
func shellNestingExceeded(src string) string {
	if n := strings.Count(src, "(") + strings.Count(src, "{") + strings.Count(src, "`"); n > maxShellOpeners {
		return "more than " + strconv.Itoa(maxShellOpeners) + " opening brackets"
	}
	var stack []nestFrame
	var root nestFrame // the case count of text outside any bracket
	top := func() *nestFrame {
		if len(stack) == 0 {
			return &root
		}
		return &stack[len(stack)-1]
	}
	push := func(kind byte, arith bool) bool {
		stack = append(stack, nestFrame{kind: kind, arith: arith})
		return len(stack) > maxShellNesting
	}
	type heredoc struct {
		delim string
		strip bool
	}
	var pending []heredoc
	wordStart := true // the previous byte ends a word: "#" starts a comment
	for i := 0; i < len(src); i++ {
		c := src[i]
		t := top()
		if t.kind == '"' {
			switch c {
			case '\\':
				i++
			case '"':
				stack = stack[:len(stack)-1]
			case '`':
				if push('`', false) {
					return nestingReason()
				}
			case '$':
				if n, over := openDollar(src, i, push); n > 0 {
					if over {
						return nestingReason()
					}
					i += n
				}
			}
			continue
		}
		ws := wordStart
		wordStart = strings.IndexByte(" \t\n;&|()<>", c) >= 0
		switch c {
		case '\\':
			i++
		case '\'':
			i = skipPast(src, i+1, '\'', false)
		case '"':
			if push('"', false) {
				return nestingReason()
			}
		case '$':
			if i+1 < len(src) && src[i+1] == '\'' {
				i = skipPast(src, i+2, '\'', true)
				continue
			}
			if n, over := openDollar(src, i, push); n > 0 {
				if over {
					return nestingReason()
				}
				// A command starts after "$(", not after "${".
				wordStart = src[i+1] == '('
				i += n
			}
		case '(':
			arith := t.arith || (i+1 < len(src) && src[i+1] == '(')
			if push('(', arith) {
				return nestingReason()
			}
			if arith && i+1 < len(src) && src[i+1] == '(' {
				if push('(', true) {
					return nestingReason()
				}
				i++
			}
		case '{':
			if push('{', t.arith) {
				return nestingReason()
			}
		case ')':
			// A case pattern's ")" closes nothing.
			if t.kind == '(' && (t.cases == 0 || t.arith) {
				stack = stack[:len(stack)-1]
			}
		case '}':
			if t.kind == '{' {
				stack = stack[:len(stack)-1]
			}
		case '`':
			if t.kind == '`' {
				stack = stack[:len(stack)-1]
			} else if push('`', false) {
				return nestingReason()
			}
		case '#':
			if ws && !t.arith {
				i = skipPast(src, i+1, '\n', false) - 1
			}
		case '<':
			if t.arith || i+1 >= len(src) || src[i+1] != '<' {
				continue
			}
			if i+2 < len(src) && src[i+2] == '<' {
				i += 2 // here-string
				continue
			}
			h, n := heredocDelim(src, i+2)
			pending = append(pending, heredoc{delim: h, strip: n.strip})
			i = n.end - 1
		case '\n':
			for _, h := range pending {
				i = skipHeredoc(src, i+1, h.delim, h.strip) - 1
			}
			pending = pending[:0]
		default:
			if ws && isWordByte(c) {
				w := src[i:]
				end := 0
				for end < len(w) && isWordByte(w[end]) {
					end++
				}
				switch w[:end] {
				case "case":
					t.cases++
				case "esac":
					t.cases = max(t.cases-1, 0)
				}
				i += end - 1
				wordStart = false
			}
		}
	}
	return ""
}

func nestingReason() string {
	return "nesting deeper than " + strconv.Itoa(maxShellNesting) + " levels"
}

// openDollar opens the levels of "$(", "$((" or "${" at src[i] and returns
// how many bytes after the "$" it consumed (0: none of them) and whether the
// nesting bound was exceeded.
func openDollar(src string, i int, push func(byte, bool) bool) (int, bool) {
	if i+1 >= len(src) {
		return 0, false
	}
	switch src[i+1] {
	case '{':
		return 1, push('{', false)
	case '(':
		if i+2 < len(src) && src[i+2] == '(' {
			over := push('(', true)
			return 2, push('(', true) || over
		}
		return 1, push('(', false)
	}
	return 0, false
}

// skipPast returns the index of the first c at or after i (after the end of
// src if none), skipping backslash escapes if escapes is set.
func skipPast(src string, i int, c byte, escapes bool) int {
	for ; i < len(src); i++ {
		switch {
		case escapes && src[i] == '\\':
			i++
		case src[i] == c:
			return i
		}
	}
	return len(src)
}

type delimEnd struct {
	end   int
	strip bool
}

// heredocDelim reads the delimiter word after "<<" at src[i]: "-" strips
// leading tabs, quotes and backslashes are removed.
func heredocDelim(src string, i int) (string, delimEnd) {
	var d delimEnd
	if i < len(src) && src[i] == '-' {
		d.strip = true
		i++
	}
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	var b strings.Builder
	for ; i < len(src) && strings.IndexByte(" \t\n;&|<>()", src[i]) < 0; i++ {
		switch c := src[i]; c {
		case '\'', '"':
			j := skipPast(src, i+1, c, false)
			b.WriteString(src[i+1 : min(j, len(src))])
			i = j
		case '\\':
			if i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	d.end = i
	return b.String(), d
}

// skipHeredoc returns the index just past the body that starts at src[i]:
// after the line that equals delim (leading tabs removed if strip), or the
// end of src.
func skipHeredoc(src string, i int, delim string, strip bool) int {
	for i < len(src) {
		j := strings.IndexByte(src[i:], '\n')
		line, next := src[i:], len(src)
		if j >= 0 {
			line, next = src[i:i+j], i+j+1
		}
		if strip {
			line = strings.TrimLeft(line, "\t")
		}
		if line == delim {
			return next
		}
		i = next
	}
	return len(src)
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
