package hierarchical

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// containerFormat is a compression or archive format, recognised by its
// magic bytes (never by the file name: attackers rename).
type containerFormat string

const (
	fmtGzip  containerFormat = "gzip"  // RFC 1952: 1f 8b 08
	fmtBzip2 containerFormat = "bzip2" // "BZh" 1-9, then the block or end-of-stream magic
	fmtXz    containerFormat = "xz"    // xz file format 1.1.0: fd 37 7a 58 5a 00
	fmtZstd  containerFormat = "zstd"  // RFC 8878: 28 b5 2f fd
	fmtTar   containerFormat = "tar"   // POSIX ustar or GNU magic at offset 257
	fmtZip   containerFormat = "zip"   // APPNOTE.TXT local file header PK 03 04
)

var (
	bzip2Block = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59} // pi
	bzip2End   = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90} // sqrt(pi): empty stream
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// sniffContainer returns the format whose magic starts head ("" if none).
func sniffContainer(head []byte) containerFormat {
	switch {
	case len(head) >= 18 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8:
		return fmtGzip
	case len(head) >= 10 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9' &&
		(bytes.Equal(head[4:10], bzip2Block) || bytes.Equal(head[4:10], bzip2End)):
		return fmtBzip2
	case bytes.HasPrefix(head, xzMagic):
		return fmtXz
	case bytes.HasPrefix(head, zstdMagic):
		return fmtZstd
	case len(head) >= 265 && (string(head[257:263]) == "ustar\x00" || string(head[257:265]) == "ustar  \x00"):
		return fmtTar
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return fmtZip
	}
	return ""
}

// Decoder memory bounds: zstd frames may ask for a window up to 3.75 TB and
// xz blocks for a dictionary up to 4 GiB; real ones stay far below (zstd
// --ultra -22: 128 MiB, xz -9: 64 MiB). Larger ones are not decoded.
const (
	maxZstdWindow = 128 << 20
	maxXzDict     = 128 << 20
)

// errDecoderBound: the stream needs more decoder memory than we grant.
var errDecoderBound = errors.New("decoder memory bound")

// decompressor opens a decompressing reader over a stream of format f.
// name is the member name the format records (gzip's FNAME), if any.
func decompressor(f containerFormat, head []byte, in io.Reader) (rc io.ReadCloser, name string, err error) {
	switch f {
	case fmtGzip:
		zr, err := gzip.NewReader(in) // every member of a multi-member stream
		if err != nil {
			return nil, "", err
		}
		return zr, zr.Name, nil
	case fmtBzip2:
		return io.NopCloser(bzip2.NewReader(in)), "", nil
	case fmtXz:
		if d, ok := xzFirstDict(head); ok && d > maxXzDict {
			return nil, "", fmt.Errorf("%w: xz dictionary of %d bytes (bound %d)", errDecoderBound, d, maxXzDict)
		}
		xr, err := xz.NewReader(in)
		if err != nil {
			return nil, "", err
		}
		return io.NopCloser(xr), "", nil
	case fmtZstd:
		zr, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, "", err
		}
		return zstdCloser{zr}, "", nil
	}
	return nil, "", fmt.Errorf("no decompressor for %s", f)
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

// xzFirstDict reads the LZMA2 dictionary size of the first block's filter
// chain (xz file format 1.1.0, sections 2.1.1 and 5.3.1), so that a crafted
// header cannot make the decoder allocate gigabytes. Later blocks are not
// checked here.
func xzFirstDict(head []byte) (int64, bool) {
	const streamHeader = 12
	if len(head) < streamHeader+2 || head[streamHeader] == 0 {
		return 0, false
	}
	bh := head[streamHeader:]
	size := (int(bh[0]) + 1) * 4
	if len(bh) < size {
		return 0, false
	}
	bh = bh[:size-4] // without the CRC32
	flags := bh[1]
	p := 2
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(bh[p:])
		if n <= 0 {
			return 0, false
		}
		p += n
		return v, true
	}
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if _, ok := uvarint(); !ok {
				return 0, false
			}
		}
	}
	for i := 0; i <= int(flags&3); i++ {
		id, ok1 := uvarint()
		n, ok2 := uvarint()
		if !ok1 || !ok2 || uint64(len(bh)-p) < n {
			return 0, false
		}
		props := bh[p : p+int(n)]
		p += int(n)
		if id == 0x21 && len(props) == 1 {
			d, err := lzma.DecodeDictCap(props[0])
			return d, err == nil
		}
	}
	return 0, false
}
