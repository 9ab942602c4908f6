package hierarchical

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Java class files (JVM Specification, chapter 4 "The class File Format")
// keep every string constant, class and method name in the constant pool
// as length-prefixed modified UTF-8: no quotes or NUL around them, so a
// stratum client compiled to bytecode ("login", "getjob", "submit",
// "mining.subscribe") would not read as string constants. A .class file
// (a jar's member, or a file of its own) is therefore analysed as the text
// of its constant pool, one quoted constant per line, with the same rules
// as source code. Kotlin, Scala and every other JVM language compile to
// the same format.

const (
	classMagic = 0xCAFEBABE
	// maxClassBytes bounds the class files read into memory (the largest
	// class files of real programs are a few hundred KiB); a larger one is
	// analysed as raw bytes, as any other binary.
	maxClassBytes = 8 << 20
)

// isJavaClass: a .class name, the magic and a class-file major version
// (45 = JDK 1.1 up to well beyond today's; Mach-O fat binaries share the
// magic but carry a small architecture count there).
func isJavaClass(p string, head []byte) bool {
	if len(head) < 10 || !strings.HasSuffix(strings.ToLower(p), ".class") || binary.BigEndian.Uint32(head) != classMagic {
		return false
	}
	major := binary.BigEndian.Uint16(head[6:8])
	return major >= 45 && major < 200
}

var errClassFormat = errors.New("malformed class file")

// classConstants returns the Utf8 constants of a class file's constant
// pool, in order.
func classConstants(b []byte) ([]string, error) {
	if len(b) < 10 {
		return nil, errClassFormat
	}
	n := int(binary.BigEndian.Uint16(b[8:10]))
	off := 10
	need := func(k int) bool { return off+k <= len(b) }
	var out []string
	for i := 1; i < n; i++ {
		if !need(1) {
			return out, errClassFormat
		}
		tag := b[off]
		off++
		switch tag {
		case 1: // Utf8: u2 length, bytes
			if !need(2) {
				return out, errClassFormat
			}
			l := int(binary.BigEndian.Uint16(b[off:]))
			off += 2
			if !need(l) {
				return out, errClassFormat
			}
			out = append(out, string(b[off:off+l]))
			off += l
		case 7, 8, 16, 19, 20: // Class, String, MethodType, Module, Package: u2
			off += 2
		case 15: // MethodHandle: u1, u2
			off += 3
		case 3, 4, 9, 10, 11, 12, 17, 18: // Integer, Float, refs, NameAndType, (Invoke)Dynamic: 4 bytes
			off += 4
		case 5, 6: // Long, Double: 8 bytes, two pool slots
			off += 8
			i++
		default:
			return out, fmt.Errorf("%w: constant pool tag %d", errClassFormat, tag)
		}
		if off > len(b) {
			return out, errClassFormat
		}
	}
	return out, nil
}

// analyzeJavaClass reads a class file (head is its first bytes, r the
// rest) and analyses its constant pool as quoted text; a class file too
// large or malformed is analysed as raw bytes instead, so nothing is
// skipped.
func analyzeJavaClass(src source, head []byte, r io.Reader, o fileOpts) (fileResult, error) {
	data := append([]byte(nil), head...)
	rest, err := io.ReadAll(io.LimitReader(r, maxClassBytes-int64(len(head))+1))
	if err != nil {
		return fileResult{}, fmt.Errorf("read %s: %w", src.path, err)
	}
	data = append(data, rest...)
	raw := src
	raw.rawClass = true
	if len(data) > maxClassBytes {
		return analyzeStream(raw, io.MultiReader(bytes.NewReader(data), r), o)
	}
	consts, err := classConstants(data)
	if err != nil {
		return analyzeStream(raw, bytes.NewReader(data), o)
	}
	var text strings.Builder
	for _, c := range consts {
		text.WriteByte('"')
		text.WriteString(c)
		text.WriteString("\"\n")
	}
	return analyzeStream(raw, strings.NewReader(text.String()), o)
}
