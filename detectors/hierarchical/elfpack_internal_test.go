package hierarchical

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"math/rand/v2"
	"os"
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
		t.Run(tt.name, func(t *testing.T) { checkPacked(t, tt.body(t), tt.want, tt.ev) })
	}
}

// checkPacked: elf-packed fires on b as want says, with evidence naming ev.
func checkPacked(t *testing.T, b []byte, want bool, ev string) {
	t.Helper()
	fr := analyzeBytes(t, "opt/app/bin", 0o755, b)
	h, got := hitOf(fr, RuleELFPacked)
	if got != want {
		t.Fatalf("elf-packed fired = %v, want %v (%+v)", got, want, fr.hits)
	}
	if got && !strings.Contains(h.evidence, ev) {
		t.Errorf("evidence %q lacks %q", h.evidence, ev)
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

// stubELF is a minimal 64-bit little-endian executable: the ELF header, one
// R+X PT_LOAD segment covering the headers and 200 bytes of code, no
// section headers: the loader stub a packer leaves in front of its blob.
func stubELF() []byte {
	const code = 200
	b := make([]byte, 64+56, 64+56+code)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[24:], 0x400000+64+56) // e_entry
	le.PutUint64(b[32:], 64)             // e_phoff
	le.PutUint16(b[52:], 64)             // e_ehsize
	le.PutUint16(b[54:], 56)             // e_phentsize
	le.PutUint16(b[56:], 1)              // e_phnum
	ph := b[64:]
	le.PutUint32(ph[0:], uint32(elf.PT_LOAD))
	le.PutUint32(ph[4:], uint32(elf.PF_R|elf.PF_X))
	le.PutUint64(ph[16:], 0x400000)       // p_vaddr
	le.PutUint64(ph[24:], 0x400000)       // p_paddr
	le.PutUint64(ph[32:], uint64(cap(b))) // p_filesz
	le.PutUint64(ph[40:], uint64(cap(b))) // p_memsz
	le.PutUint64(ph[48:], 0x1000)         // p_align
	return append(b, bytes.Repeat([]byte{0x48, 0x89, 0xe5, 0x90}, code/4)...)
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	randomize(b, seed)
	return b
}

// zipOf is a zip archive of one stored (uncompressed) member; at is the
// offset the archive will have in the file (0: offsets relative to the
// archive, as a plain append leaves them).
func zipOf(t *testing.T, member []byte, at int64) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	w.SetOffset(at)
	f, err := w.CreateHeader(&zip.FileHeader{Name: "app/data.bin", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(member); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pyInstallerPackage is a package body followed by PyInstaller's cookie
// ("!8sIIii64s": magic, package length, TOC offset, TOC length, Python
// version, library name).
func pyInstallerPackage(body []byte) []byte {
	c := make([]byte, pyiCookieSize)
	copy(c, "MEI\x0c\x0b\x0a\x0b\x0e")
	binary.BigEndian.PutUint32(c[8:], uint32(len(body)+len(c)))
	binary.BigEndian.PutUint32(c[12:], uint32(len(body)-64))
	binary.BigEndian.PutUint32(c[16:], 64)
	binary.BigEndian.PutUint32(c[20:], 312)
	copy(c[24:], "libpython3.12.so.1.0")
	return append(append([]byte(nil), body...), c...)
}

// squashfsImage is body behind a squashfs superblock ("hsqs", bytes_used
// at offset 40) claiming used bytes.
func squashfsImage(body []byte, used uint64) []byte {
	b := append([]byte(nil), body...)
	copy(b, "hsqs")
	binary.LittleEndian.PutUint64(b[40:], used)
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestELFOverlay: a stub followed by an encrypted or compressed blob is
// packed; archives that legitimate tools append, small or low-entropy
// overlays and normal binaries are not.
func TestELFOverlay(t *testing.T) {
	stub := stubELF()
	blob := randomBytes(64<<10, 7)
	tests := []struct {
		name string
		body func(t *testing.T) []byte
		want bool
		ev   string
	}{
		{"stub + 64 KiB random", func(*testing.T) []byte { return cat(stub, blob) }, true, "overlay of 65536 bytes at 8.00 bits/byte after the ELF image"},
		{"stub + 3 MiB random (across chunks)", func(*testing.T) []byte { return cat(stub, randomBytes(3<<20, 8)) }, true, "overlay of 3145728 bytes"},
		{"/bin/true + 1 MiB random (section table at the end)", func(t *testing.T) []byte {
			return cat(machineBytes(t, "/bin/true"), randomBytes(1<<20, 9))
		}, true, "overlay of 1048576 bytes"},
		{"Go test binary + 2x its size random (section table at the start)", func(t *testing.T) []byte {
			exe, err := os.Executable()
			if err != nil {
				t.Skip(err)
			}
			b := machineBytes(t, exe)
			return cat(b, randomBytes(2*len(b), 10))
		}, true, "overlay of"},
		{"stub + random + forged EOCD (comment length off)", func(*testing.T) []byte {
			return cat(stub, blob, []byte("PK\x05\x06"), make([]byte, 18), []byte("x"))
		}, true, "overlay of"},
		{"stub + forged squashfs magic (bytes_used 4 KiB)", func(*testing.T) []byte {
			return cat(stub, squashfsImage(blob, 4<<10))
		}, true, "overlay of"},
		{"stub + forged PyInstaller cookie (length 4 KiB)", func(*testing.T) []byte {
			p := pyInstallerPackage(blob)
			binary.BigEndian.PutUint32(p[len(p)-pyiCookieSize+8:], 4<<10)
			return cat(stub, p)
		}, true, "overlay of"},

		{"stub + appended zip (relative offsets)", func(t *testing.T) []byte { return cat(stub, zipOf(t, blob, 0)) }, false, ""},
		{"stub + zip -A (absolute offsets)", func(t *testing.T) []byte { return cat(stub, zipOf(t, blob, int64(len(stub)))) }, false, ""},
		{"stub + PyInstaller CArchive", func(*testing.T) []byte { return cat(stub, pyInstallerPackage(blob)) }, false, ""},
		{"stub + AppImage squashfs", func(*testing.T) []byte { return cat(stub, squashfsImage(blob, uint64(len(blob)-1000))) }, false, ""},
		{"stub + 64 KiB text", func(*testing.T) []byte {
			return cat(stub, bytes.Repeat([]byte("resource: icon.png size=4096 checksum=deadbeef\n"), 1400))
		}, false, ""},
		{"stub + 3 KiB random (below 4 KiB)", func(*testing.T) []byte { return cat(stub, blob[:3<<10]) }, false, ""},
		{"/bin/ls + 16 KiB random (less than half the file)", func(t *testing.T) []byte {
			return cat(machineBytes(t, "/bin/ls"), blob[:16<<10])
		}, false, ""},
		{"stub alone", func(*testing.T) []byte { return stub }, false, ""},
		{"Go test binary", func(t *testing.T) []byte {
			exe, err := os.Executable()
			if err != nil {
				t.Skip(err)
			}
			return machineBytes(t, exe)
		}, false, ""},
		{"/bin/true", func(t *testing.T) []byte { return machineBytes(t, "/bin/true") }, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkPacked(t, tt.body(t), tt.want, tt.ev) })
	}
}
