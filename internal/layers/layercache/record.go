package layercache

import (
	"archive/tar"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/strata-sec/strata/internal/layers"
)

// A layer record is what the walker needs to apply a layer again without
// reading its blob: every tar header the walk consumed, in order (paths,
// types, modes, sizes, link targets, whiteouts and opaque markers, PAX global
// headers), and for each regular file the analyzer's result and whether the
// file-bytes limit cut it. Content is not kept. The encoding is compact
// (varints, names prefix-compressed against the previous name) so a layer of
// 50,000 entries costs a few MB at most:
//
//	uvarint bytes        uncompressed bytes the walk read
//	uvarint count        number of records
//	count x record:
//	  byte    typeflag
//	  uvarint shared, uvarint n, n bytes   name = prev[:shared] + suffix
//	  varint  mode, varint size
//	  uvarint n, n bytes                   linkname
//	  byte    flags                        recVisited | recTruncated
//	  [uvarint n, n bytes]                 analyzer result, if recVisited
//	[uvarint n, n bytes]                   layer result (LayerAnalyzer), if any
//
// Records of analyzers without a layer result end after the last entry, so
// they are byte for byte what they were before layer results existed.

// Only layers the walk read to the end are recorded: a layer cut by a limit
// is read again (and reported again) by every scan.
const (
	recVisited   byte = 1
	recTruncated byte = 2
)

// recorder encodes a layer record while the layer streams by. It gives up
// (and the layer is not cached) once the record exceeds max bytes.
type recorder struct {
	body  []byte
	count int
	prev  string
	max   int
	over  bool
}

func newRecorder(max int) *recorder { return &recorder{max: max} }

func (r *recorder) header(h *tar.Header) {
	if r.over {
		return
	}
	r.count++
	b := r.body
	b = append(b, h.Typeflag)
	shared := 0
	for shared < len(h.Name) && shared < len(r.prev) && h.Name[shared] == r.prev[shared] {
		shared++
	}
	b = binary.AppendUvarint(b, uint64(shared))
	b = appendString(b, h.Name[shared:])
	b = binary.AppendVarint(b, h.Mode)
	b = binary.AppendVarint(b, h.Size)
	b = appendString(b, h.Linkname)
	r.prev = h.Name
	r.body = b
}

func (r *recorder) done(visited, truncated bool, result []byte) {
	if r.over {
		return
	}
	var flags byte
	if visited {
		flags |= recVisited
	}
	if truncated {
		flags |= recTruncated
	}
	r.body = append(r.body, flags)
	if visited {
		r.body = appendString(r.body, string(result))
	}
	if r.max > 0 && len(r.body) > r.max {
		r.over, r.body = true, nil
	}
}

// finish returns the encoded record, or nil if it grew too large.
func (r *recorder) finish(bytesRead int64, layerResult []byte) []byte {
	if r.over || (r.max > 0 && len(r.body)+len(layerResult) > r.max) {
		return nil
	}
	out := make([]byte, 0, len(r.body)+len(layerResult)+32)
	out = binary.AppendUvarint(out, uint64(bytesRead))
	out = binary.AppendUvarint(out, uint64(r.count))
	out = append(out, r.body...)
	if layerResult != nil {
		out = appendString(out, string(layerResult))
	}
	return out
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// recordSource replays a layer record as a header stream.
type recordSource struct {
	b     []byte
	bytes int64
	left  int
	prev  string
	// the current record's file result
	flags  byte
	result []byte
	used   bool
	// the layer result, read after the last record
	layer []byte
	ended bool
}

func errRecord(format string, args ...any) error {
	return fmt.Errorf("%w: %s", layers.ErrCacheRecord, fmt.Sprintf(format, args...))
}

func newRecordSource(b []byte) (*recordSource, error) {
	s := &recordSource{b: b}
	n, err := s.uvarint()
	if err != nil {
		return nil, err
	}
	if n > 1<<62 {
		return nil, errRecord("byte count %d", n)
	}
	s.bytes = int64(n)
	c, err := s.uvarint()
	if err != nil {
		return nil, err
	}
	if c > uint64(len(s.b)) { // every record takes at least one byte
		return nil, errRecord("record count %d", c)
	}
	s.left = int(c)
	return s, nil
}

// validateRecord decodes a whole record, so a record read from disk is
// structurally sound before any of it is applied.
func validateRecord(b []byte) error {
	s, err := newRecordSource(b)
	if err != nil {
		return err
	}
	for {
		_, err := s.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if len(s.b) != 0 {
		return errRecord("%d trailing bytes", len(s.b))
	}
	return nil
}

// end reads the layer result after the last record, if there is one.
func (s *recordSource) end() error {
	if s.ended || len(s.b) == 0 {
		return nil
	}
	s.ended = true
	var err error
	if s.layer, err = s.bytesN(); err != nil {
		return err
	}
	if s.layer == nil {
		s.layer = []byte{}
	}
	return nil
}

func (s *recordSource) uvarint() (uint64, error) {
	v, n := binary.Uvarint(s.b)
	if n <= 0 {
		return 0, errRecord("bad varint")
	}
	s.b = s.b[n:]
	return v, nil
}

func (s *recordSource) varint() (int64, error) {
	v, n := binary.Varint(s.b)
	if n <= 0 {
		return 0, errRecord("bad varint")
	}
	s.b = s.b[n:]
	return v, nil
}

func (s *recordSource) bytesN() ([]byte, error) {
	n, err := s.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(s.b)) {
		return nil, errRecord("length %d past end", n)
	}
	out := s.b[:n:n]
	s.b = s.b[n:]
	return out, nil
}

// next returns the next recorded header, io.EOF after the last one (and
// its layer result).
func (s *recordSource) next() (*tar.Header, error) {
	if s.left == 0 {
		if err := s.end(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	s.left--
	if len(s.b) == 0 {
		return nil, errRecord("truncated")
	}
	h := &tar.Header{Typeflag: s.b[0]}
	s.b = s.b[1:]
	shared, err := s.uvarint()
	if err != nil {
		return nil, err
	}
	if shared > uint64(len(s.prev)) {
		return nil, errRecord("name prefix %d longer than previous name", shared)
	}
	suffix, err := s.bytesN()
	if err != nil {
		return nil, err
	}
	h.Name = s.prev[:shared] + string(suffix)
	if h.Mode, err = s.varint(); err != nil {
		return nil, err
	}
	if h.Size, err = s.varint(); err != nil {
		return nil, err
	}
	link, err := s.bytesN()
	if err != nil {
		return nil, err
	}
	h.Linkname = string(link)
	if len(s.b) == 0 {
		return nil, errRecord("truncated")
	}
	s.flags, s.b = s.b[0], s.b[1:]
	if s.flags&^(recVisited|recTruncated) != 0 {
		return nil, errRecord("flags %#x", s.flags)
	}
	s.result, s.used = nil, false
	if s.flags&recVisited != 0 {
		if s.result, err = s.bytesN(); err != nil {
			return nil, err
		}
	}
	s.prev = h.Name
	return h, nil
}
