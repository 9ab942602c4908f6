package hierarchical

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Packer signs in ELF files (rule elf-packed), found in the single pass of
// stage 1 without seeking:
//
//   - the program headers are read from the first 8 KiB; the byte histogram
//     of every executable PT_LOAD segment is accumulated while the file
//     streams by;
//   - the section headers and their names (.shstrtab) sit at the end of
//     files linked by GNU ld, lld and Go, so they are read from the last
//     window of the stream (the whole file when it is at most 1 MiB), and
//     an executable section's entropy is computed when the section lies in
//     that window.
//
// A file is packed when UPX's "UPX!" magic follows the program headers
// (UPX's l_info header), a section is named UPX0/UPX1/UPX2, or an
// executable section or segment of at least 512 bytes has more than
// PackedEntropy bits of entropy per byte. Compiled code has 5-6.8 bits/byte
// (the highest on this project's machine: libdav1d's .text, 6.79, among
// 2,729 executable sections of /usr/bin, /usr/sbin and /usr/lib);
// compressed or encrypted code approaches 8.

// PackedEntropy is the entropy (bits/byte) above which executable code is
// taken to be compressed or encrypted: Lyda & Hamrock's bound for encrypted
// executables (IEEE S&P 2007: 7.199; packed executables averaged 6.80).
const PackedEntropy = 7.2

const (
	packedMinBytes = 512
	maxExecSegs    = 8
	upxSearch      = 512 // bytes after the program headers searched for "UPX!"
)

type execSeg struct {
	off, size, seen int64
	hist            [256]uint32
}

// elfScan is the per-file state of the packing analysis.
type elfScan struct {
	bo        binary.ByteOrder
	is64      bool
	shoff     uint64
	shnum     uint64
	shentsize uint64
	shstrndx  uint64
	segs      []*execSeg
	upxAt     int // offset of "UPX!" after the program headers, -1 if none
	// sharedLib: ET_DYN without a PT_INTERP program header, as shared
	// libraries are (PIE executables name their interpreter).
	sharedLib bool
	// ovFrom is where the overlay starts as far as the headers tell
	// (overlay below); 0 when the program headers are not in the head.
	ovFrom int64
	ov     overlayScan
}

// parseELFHead reads the ELF and program headers from the file's first
// bytes; nil if they are not a well-formed 32- or 64-bit ELF header.
func parseELFHead(head []byte) *elfScan {
	if len(head) < 52 || !bytes.HasPrefix(head, []byte(elf.ELFMAG)) {
		return nil
	}
	es := &elfScan{upxAt: -1}
	switch elf.Data(head[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		es.bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		es.bo = binary.BigEndian
	default:
		return nil
	}
	var phoff, phentsize, phnum uint64
	switch elf.Class(head[elf.EI_CLASS]) {
	case elf.ELFCLASS64:
		if len(head) < 64 {
			return nil
		}
		es.is64 = true
		phoff = es.bo.Uint64(head[32:])
		es.shoff = es.bo.Uint64(head[40:])
		phentsize, phnum = uint64(es.bo.Uint16(head[54:])), uint64(es.bo.Uint16(head[56:]))
		es.shentsize, es.shnum, es.shstrndx = uint64(es.bo.Uint16(head[58:])), uint64(es.bo.Uint16(head[60:])), uint64(es.bo.Uint16(head[62:]))
	case elf.ELFCLASS32:
		phoff = uint64(es.bo.Uint32(head[28:]))
		es.shoff = uint64(es.bo.Uint32(head[32:]))
		phentsize, phnum = uint64(es.bo.Uint16(head[42:])), uint64(es.bo.Uint16(head[44:]))
		es.shentsize, es.shnum, es.shstrndx = uint64(es.bo.Uint16(head[46:])), uint64(es.bo.Uint16(head[48:])), uint64(es.bo.Uint16(head[50:]))
	default:
		return nil
	}
	minPh := uint64(32)
	if es.is64 {
		minPh = 56
	}
	if phentsize < minPh || phnum == 0 || phoff > uint64(len(head)) || phnum > (uint64(len(head))-phoff)/phentsize {
		return es // program headers beyond the head: no segment analysis
	}
	interp := false
	imageEnd := phoff + phnum*phentsize
	if es.shoff != 0 && es.shoff < math.MaxInt64/4 && es.shentsize < 1<<16 {
		// With extended numbering (e_shnum 0) section 0 is the only one
		// known here; finish reads the rest from the tail window.
		imageEnd = max(imageEnd, es.shoff+max(es.shnum, 1)*es.shentsize)
	}
	defer func() {
		if es.shoff != 0 && es.shoff < uint64(len(head)) {
			// Go's linker writes the section table right after the
			// program headers, so its sections are known here.
			if secs, ok := es.sections(head, 0); ok {
				imageEnd = max(imageEnd, es.imageEnd(secs, true))
			}
		}
		if imageEnd < math.MaxInt64/2 {
			es.ovFrom = int64(imageEnd)
		}
	}()
	defer func() { es.sharedLib = elf.Type(es.bo.Uint16(head[16:])) == elf.ET_DYN && !interp }()
	for i := uint64(0); i < phnum; i++ {
		ph := head[phoff+i*phentsize:]
		var typ, flags uint32
		var off, filesz uint64
		if es.is64 {
			typ, flags = es.bo.Uint32(ph[0:]), es.bo.Uint32(ph[4:])
			off, filesz = es.bo.Uint64(ph[8:]), es.bo.Uint64(ph[32:])
		} else {
			typ, flags = es.bo.Uint32(ph[0:]), es.bo.Uint32(ph[24:])
			off, filesz = uint64(es.bo.Uint32(ph[4:])), uint64(es.bo.Uint32(ph[16:]))
		}
		if elf.ProgType(typ) == elf.PT_INTERP {
			interp = true
		}
		if elf.ProgType(typ) == elf.PT_LOAD && off < math.MaxInt64/4 && filesz < math.MaxInt64/4 {
			imageEnd = max(imageEnd, off+filesz)
		}
		if elf.ProgType(typ) == elf.PT_LOAD && elf.ProgFlag(flags)&elf.PF_X != 0 && filesz > 0 &&
			off < math.MaxInt64/2 && filesz < math.MaxInt64/2 && len(es.segs) < maxExecSegs {
			es.segs = append(es.segs, &execSeg{off: int64(off), size: int64(filesz)})
		}
	}
	end := int(phoff + phnum*phentsize)
	if i := bytes.Index(head[end:min(len(head), end+upxSearch)], []byte("UPX!")); i >= 0 {
		es.upxAt = end + i
	}
	return es
}

// update adds the bytes b at file offset off to the executable segments'
// histograms.
func (es *elfScan) update(off int64, b []byte) {
	for _, s := range es.segs {
		lo, hi := max(off, s.off), min(off+int64(len(b)), s.off+s.size)
		if lo >= hi {
			continue
		}
		h := &s.hist
		for _, c := range b[lo-off : hi-off] {
			h[c]++
		}
		s.seen += hi - lo
	}
	if es.ovFrom > 0 && off+int64(len(b)) > es.ovFrom {
		es.ov.update(off, b, es.ovFrom)
	}
}

func entropy(h *[256]uint32, n int64) float64 {
	if n <= 0 {
		return 0
	}
	e := 0.0
	for _, c := range h {
		if c > 0 {
			p := float64(c) / float64(n)
			e -= p * math.Log2(p)
		}
	}
	return e
}

func histogram(b []byte) *[256]uint32 {
	var h [256]uint32
	for _, c := range b {
		h[c]++
	}
	return &h
}

type elfSection struct {
	name         string
	nameOff      uint32
	typ          elf.SectionType
	flags        elf.SectionFlag
	offset, size uint64
}

// sections decodes the section headers and names that lie in win, the
// file's bytes from offset winOff. ok is false when the table is not there.
func (es *elfScan) sections(win []byte, winOff int64) (secs []elfSection, ok bool) {
	if es.shoff == 0 {
		return nil, false
	}
	in := func(off, n uint64) ([]byte, bool) {
		if off < uint64(winOff) || n > uint64(len(win)) || off-uint64(winOff) > uint64(len(win))-n {
			return nil, false
		}
		return win[off-uint64(winOff) : off-uint64(winOff)+n], true
	}
	entSize := uint64(40)
	if es.is64 {
		entSize = 64
	}
	if es.shentsize < entSize {
		return nil, false
	}
	read := func(i uint64) (elfSection, bool) {
		b, ok := in(es.shoff+i*es.shentsize, entSize)
		if !ok {
			return elfSection{}, false
		}
		s := elfSection{nameOff: es.bo.Uint32(b[0:]), typ: elf.SectionType(es.bo.Uint32(b[4:]))}
		if es.is64 {
			s.flags, s.offset, s.size = elf.SectionFlag(es.bo.Uint64(b[8:])), es.bo.Uint64(b[24:]), es.bo.Uint64(b[32:])
		} else {
			s.flags, s.offset, s.size = elf.SectionFlag(es.bo.Uint32(b[8:])), uint64(es.bo.Uint32(b[16:])), uint64(es.bo.Uint32(b[20:]))
		}
		return s, true
	}
	n, strndx := es.shnum, es.shstrndx
	if n == 0 || strndx == uint64(elf.SHN_XINDEX) {
		// Extended numbering: the real values are in section 0.
		s0, ok := read(0)
		if !ok {
			return nil, false
		}
		if n == 0 {
			n = s0.size
		}
		if strndx == uint64(elf.SHN_XINDEX) {
			b, _ := in(es.shoff, entSize)
			if es.is64 {
				strndx = uint64(es.bo.Uint32(b[44:]))
			} else {
				strndx = uint64(es.bo.Uint32(b[28:]))
			}
		}
	}
	if n == 0 || n > 1<<16 {
		return nil, false
	}
	for i := uint64(0); i < n; i++ {
		s, ok := read(i)
		if !ok {
			return nil, false
		}
		secs = append(secs, s)
	}
	var strtab []byte
	if strndx < n && secs[strndx].typ == elf.SHT_STRTAB {
		strtab, _ = in(secs[strndx].offset, secs[strndx].size)
	}
	for i := range secs {
		if o := uint64(secs[i].nameOff); o < uint64(len(strtab)) {
			name := strtab[o:]
			if j := bytes.IndexByte(name, 0); j >= 0 {
				name = name[:j]
			}
			secs[i].name = string(name)
		}
	}
	return secs, true
}

// finish decides, at the end of the stream, whether the file is packed. win
// holds the file's last bytes, from offset winOff.
func (es *elfScan) finish(win []byte, winOff int64) (string, bool) {
	var why []string
	if es.upxAt >= 0 {
		why = append(why, fmt.Sprintf("UPX! magic at offset %d after the program headers", es.upxAt))
	}
	secs, haveSecs := es.sections(win, winOff)
	noSecs := es.shoff == 0 || (es.shnum == 0 && !haveSecs)
	if noSecs {
		for _, s := range es.segs {
			if s.seen == s.size && s.size >= packedMinBytes {
				if e := entropy(&s.hist, s.size); e > PackedEntropy {
					why = append(why, fmt.Sprintf("no section headers; executable segment at offset %d (%d bytes) has entropy %.2f bits/byte", s.off, s.size, e))
				}
			}
		}
	} else {
		for _, s := range secs {
			if strings.HasPrefix(s.name, "UPX") && len(s.name) == 4 && s.name[3] >= '0' && s.name[3] <= '9' {
				why = append(why, "section "+s.name)
			}
			if s.flags&elf.SHF_EXECINSTR == 0 || s.typ == elf.SHT_NOBITS || s.size < packedMinBytes {
				continue
			}
			if s.offset < uint64(winOff) || s.offset+s.size > uint64(winOff)+uint64(len(win)) || s.offset+s.size < s.offset {
				continue // not in the window: the segment measure below covers it
			}
			b := win[s.offset-uint64(winOff) : s.offset-uint64(winOff)+s.size]
			if e := entropy(histogram(b), int64(len(b))); e > PackedEntropy {
				why = append(why, fmt.Sprintf("executable section %s (%d bytes) has entropy %.2f bits/byte", s.name, s.size, e))
			}
		}
		for _, s := range es.segs {
			if s.seen == s.size && s.size >= packedMinBytes {
				if e := entropy(&s.hist, s.size); e > PackedEntropy {
					why = append(why, fmt.Sprintf("executable segment at offset %d (%d bytes) has entropy %.2f bits/byte", s.off, s.size, e))
				}
			}
		}
	}
	if ev, ok := es.overlay(secs, haveSecs, win, winOff); ok {
		why = append(why, ev)
	}
	if len(why) == 0 {
		return "", false
	}
	return "packed ELF: " + strings.Join(why, "; "), true
}

// The overlay: bytes after the ELF image, which the loader never maps. The
// image ends where the last PT_LOAD segment's file extent (p_offset +
// p_filesz, System V ABI gABI, "Program Header"), the section header table
// and the last section end. Packers and droppers append the compressed or
// encrypted program there behind a small loader stub; in PE malware
// analysis this is "the overlay" (PortEx wiki, Overlay: "all data appended
// to a PE that is not within a section"). A file that is mostly such a
// blob (overlayMinBytes, at least half of the file, above PackedEntropy) is
// packed, unless the blob is an archive legitimate tools append: a zip
// (self-extractors, zip-appended executables), a PyInstaller CArchive or an
// AppImage's squashfs.
const (
	overlayMinBytes = 4 << 10
	overlayHeadSize = 96          // bytes kept from the overlay's start (a squashfs superblock)
	archiveSlack    = 4 << 10     // bytes of an overlay an appended archive may leave unexplained
	zipEOCDSearch   = 22 + 0xFFFF // an end-of-central-directory record with the longest comment
	pyiCookieSize   = 88          // PyInstaller's cookie since 2021.03: "!8sIIii64s"
	pyiCookieSearch = 8 << 10
)

// overlayScan accumulates the bytes from ovFrom on while the file streams.
type overlayScan struct {
	seen int64
	hist [256]uint32
	head []byte
}

func (o *overlayScan) update(off int64, b []byte, from int64) {
	if off < from {
		b = b[from-off:]
		off = from
	}
	if at := off - from; at < overlayHeadSize && at == int64(len(o.head)) {
		o.head = append(o.head, b[:min(len(b), overlayHeadSize-int(at))]...)
	}
	h := &o.hist
	for _, c := range b {
		h[c]++
	}
	o.seen += int64(len(b))
}

// overlay reports a high-entropy overlay that is most of the file. secs
// are the section headers when haveSecs; win holds the file's last bytes
// from winOff.
func (es *elfScan) overlay(secs []elfSection, haveSecs bool, win []byte, winOff int64) (string, bool) {
	if es.ovFrom <= 0 {
		return "", false
	}
	size := winOff + int64(len(win))
	start := es.imageEnd(secs, haveSecs)
	if start >= uint64(size) {
		return "", false
	}
	n := size - int64(start)
	if n < overlayMinBytes || 2*n < size {
		return "", false
	}
	hist, seen, head := &es.ov.hist, es.ov.seen, es.ov.head
	if int64(start) != es.ovFrom {
		// A section ends past the header bound: measure from the window
		// when it holds the whole overlay.
		if int64(start) < winOff {
			return "", false
		}
		b := win[int64(start)-winOff:]
		hist, seen, head = histogram(b), int64(len(b)), b[:min(len(b), overlayHeadSize)]
	}
	if seen < overlayMinBytes {
		return "", false
	}
	e := entropy(hist, seen)
	if e <= PackedEntropy || appendedArchive(int64(start), size, head, win, winOff) {
		return "", false
	}
	ev := fmt.Sprintf("overlay of %d bytes at %.2f bits/byte after the ELF image (offset %d)", n, e, start)
	if seen < n {
		ev += fmt.Sprintf(", first %d bytes measured", seen)
	}
	return ev, true
}

// imageEnd is where the ELF image ends: the headers' bound, raised by the
// section table and every section with file content when they are known.
func (es *elfScan) imageEnd(secs []elfSection, haveSecs bool) uint64 {
	end := uint64(es.ovFrom)
	if haveSecs {
		end = max(end, es.shoff+uint64(len(secs))*es.shentsize)
		for _, s := range secs {
			if s.typ != elf.SHT_NOBITS && s.offset+s.size >= s.offset {
				end = max(end, s.offset+s.size)
			}
		}
	}
	return end
}

// appendedArchive tells whether the overlay from start to size is an
// archive that legitimate tools append to an ELF stub, and the archive
// accounts for all but archiveSlack of it.
func appendedArchive(start, size int64, head, win []byte, winOff int64) bool {
	return squashfsOverlay(start, size, head) || zipOverlay(start, size, win, winOff) || pyInstallerOverlay(start, size, win, winOff)
}

// squashfsOverlay: an AppImage (type 2) is its runtime ELF followed by a
// squashfs image whose superblock starts right at the ELF's end (AppImage
// specification); bytes_used (le64 at offset 40 of the superblock, Linux
// fs/squashfs/squashfs_fs.h) is the image's length.
func squashfsOverlay(start, size int64, head []byte) bool {
	if len(head) < 48 || !bytes.HasPrefix(head, []byte("hsqs")) {
		return false
	}
	used := binary.LittleEndian.Uint64(head[40:])
	return used <= uint64(size-start) && uint64(size-start)-used <= archiveSlack
}

// zipOverlay: a zip appended to a stub (Info-ZIP's unzipsfx, zip -A)
// ends with an end-of-central-directory record (APPNOTE.TXT 4.3.16:
// "PK\x05\x06", central directory size at +12, offset at +16, comment
// length at +20) whose central directory lies in the overlay, and whose
// offsets are either absolute (adjusted by zip -A) or relative to an
// archive starting within archiveSlack of the overlay's start.
func zipOverlay(start, size int64, win []byte, winOff int64) bool {
	from := max(0, len(win)-zipEOCDSearch)
	tail := win[from:]
	for i := bytes.LastIndex(tail, []byte("PK\x05\x06")); i >= 0; i = bytes.LastIndex(tail[:i], []byte("PK\x05\x06")) {
		r := tail[i:]
		eocd := winOff + int64(from+i)
		if len(r) < 22 || eocd+22+int64(binary.LittleEndian.Uint16(r[20:])) != size {
			continue
		}
		cdSize, cdOff := int64(binary.LittleEndian.Uint32(r[12:])), int64(binary.LittleEndian.Uint32(r[16:]))
		cd := eocd - cdSize
		if cd < start {
			continue
		}
		if cd >= winOff && cdSize > 0 && !bytes.HasPrefix(win[cd-winOff:], []byte("PK\x01\x02")) {
			continue
		}
		if base := cd - cdOff; base == 0 || (base >= start && base-start <= archiveSlack) {
			return true
		}
	}
	return false
}

// pyInstallerOverlay: PyInstaller appends its CArchive to the bootloader
// and ends it with a cookie (bootloader/src/pyi_archive.h: magic
// "MEI\014\013\012\013\016", then the package length as a big-endian
// uint32); the package ends with the cookie.
func pyInstallerOverlay(start, size int64, win []byte, winOff int64) bool {
	from := max(0, len(win)-pyiCookieSearch)
	i := bytes.LastIndex(win[from:], []byte("MEI\x0c\x0b\x0a\x0b\x0e"))
	if i < 0 || len(win)-(from+i) < pyiCookieSize {
		return false
	}
	end := winOff + int64(from+i) + pyiCookieSize
	pkg := end - int64(binary.BigEndian.Uint32(win[from+i+8:]))
	return pkg >= start && pkg-start <= archiveSlack && size-end <= archiveSlack
}
