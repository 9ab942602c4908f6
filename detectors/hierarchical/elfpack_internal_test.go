package hierarchical

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomize(b []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
}

func elfFile(t *testing.T, b []byte) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// withRandomSection overwrites a section's bytes with random ones (a
// compressed or encrypted .text).
func withRandomSection(t *testing.T, b []byte, name string) []byte {
	b = append([]byte(nil), b...)
	s := elfFile(t, b).Section(name)
	if s == nil {
		t.Skipf("no section %s", name)
	}
	randomize(b[s.Offset:s.Offset+s.Size], 1)
	return b
}

// withRandomExecSegment overwrites every executable PT_LOAD segment.
func withRandomExecSegment(t *testing.T, b []byte) []byte {
	b = append([]byte(nil), b...)
	for _, p := range elfFile(t, b).Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Off > 0 {
			randomize(b[p.Off:p.Off+p.Filesz], 2)
		}
	}
	return b
}

// withoutSectionHeaders clears e_shoff, e_shnum and e_shstrndx (64-bit,
// little-endian), as UPX and strippers like sstrip leave an ELF.
func withoutSectionHeaders(b []byte) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint64(b[40:], 0)
	binary.LittleEndian.PutUint16(b[60:], 0)
	binary.LittleEndian.PutUint16(b[62:], 0)
	return b
}

// withUPXMagic writes UPX's l_info header ("UPX!" after a checksum word)
// right after the program headers.
func withUPXMagic(b []byte) []byte {
	b = withoutSectionHeaders(b)
	phoff := binary.LittleEndian.Uint64(b[32:])
	end := int(phoff) + int(binary.LittleEndian.Uint16(b[54:]))*int(binary.LittleEndian.Uint16(b[56:]))
	copy(b[end+4:], "UPX!")
	return b
}

// withSectionRenamed renames a section in .shstrtab (same length).
func withSectionRenamed(t *testing.T, b []byte, from, to string) []byte {
	b = append([]byte(nil), b...)
	f := elfFile(t, b)
	strtab := f.Sections[binary.LittleEndian.Uint16(b[62:])]
	tab := b[strtab.Offset : strtab.Offset+strtab.Size]
	i := bytes.Index(tab, []byte("\x00"+from+"\x00"))
	if i < 0 || len(to) > len(from) {
		t.Skipf("cannot rename %s", from)
	}
	copy(tab[i+1:], to+strings.Repeat("\x00", len(from)-len(to)))
	return b
}

func TestELFPacked(t *testing.T) {
	tests := []struct {
		name string
		body func(t *testing.T) []byte
		want bool
		ev   string
	}{
		{"random .text (encrypted code)", func(t *testing.T) []byte {
			return withRandomSection(t, machineBytes(t, "/bin/true"), ".text")
		}, true, "executable section .text"},
		{"no section headers, high-entropy executable segment", func(t *testing.T) []byte {
			return withoutSectionHeaders(withRandomExecSegment(t, machineBytes(t, "/bin/true")))
		}, true, "no section headers"},
		{"UPX! magic after the program headers", func(t *testing.T) []byte { return withUPXMagic(machineBytes(t, "/bin/true")) }, true, "UPX! magic"},
		{"section named UPX0", func(t *testing.T) []byte {
			return withSectionRenamed(t, machineBytes(t, "/bin/true"), ".text", "UPX0")
		}, true, "section UPX0"},
		{"large library, random .text outside the last window", func(t *testing.T) []byte {
			return withRandomSection(t, machineBytes(t, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"), ".text")
		}, true, "executable segment"},
		// Real ELF files of this machine (TestSystemELFsFireNoBinaryRule
		// covers a thousand more).
		{"/bin/true", func(t *testing.T) []byte { return machineBytes(t, "/bin/true") }, false, ""},
		{"/bin/ls", func(t *testing.T) []byte { return machineBytes(t, "/bin/ls") }, false, ""},
		{"libcrypto", func(t *testing.T) []byte { return machineBytes(t, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3") }, false, ""},
		{"Go binary", func(t *testing.T) []byte { return machineBytes(t, "/usr/local/go/bin/gofmt") }, false, ""},
		{"stripped of section headers only", func(t *testing.T) []byte { return withoutSectionHeaders(machineBytes(t, "/bin/ls")) }, false, ""},
		{"truncated ELF header", func(*testing.T) []byte { return []byte("\x7fELF\x02\x01\x01") }, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := analyzeBytes(t, "opt/app/bin", 0o755, tt.body(t))
			h, got := hitOf(fr, RuleELFPacked)
			if got != tt.want {
				t.Fatalf("elf-packed fired = %v, want %v (%+v)", got, tt.want, fr.hits)
			}
			if got && !strings.Contains(h.evidence, tt.ev) {
				t.Errorf("evidence %q lacks %q", h.evidence, tt.ev)
			}
		})
	}
}

// TestELFPackedHeaderFuzz: corrupt headers never panic.
func TestELFPackedHeaderFuzz(t *testing.T) {
	base := machineBytes(t, "/bin/true")
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		b := append([]byte(nil), base...)
		for range 8 {
			b[r.IntN(64)] = byte(r.IntN(256))
		}
		if r.IntN(2) == 0 {
			off := len(b) - 1 - r.IntN(4096)
			b[off] = byte(r.IntN(256))
		}
		_ = analyzeBytes(t, "opt/x", 0o755, b)
	}
}
