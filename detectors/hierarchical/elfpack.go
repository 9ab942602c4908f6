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
	if len(why) == 0 {
		return "", false
	}
	return "packed ELF: " + strings.Join(why, "; "), true
}
