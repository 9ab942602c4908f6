package layers

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Layer streams are the walker's floor: every uncompressed byte of a cold
// layer passes through them once. Two things make that cheaper than
// v1.Layer.Uncompressed: klauspost/compress decompresses gzip about 1.4x
// faster than compress/gzip, and a read-ahead goroutine decompresses the next
// chunks while the visitor analyses the current one.

const (
	readAheadChunk  = 1 << 20
	readAheadChunks = 4
	// maxTrailer bounds the bytes after the end-of-archive marker that are
	// hashed to verify digests; a layer with more is reported unverified.
	maxTrailer = 1 << 20
)

// blobBacked reports whether l's Uncompressed() merely decompresses its
// Compressed() blob: layers of OCI layouts and registries are
// partial.compressedLayerExtender values. For other layers (tarball,
// in-memory, streamed) Compressed() may compress on the fly, so they are read
// through Uncompressed(). go-containerregistry offers no interface for this
// distinction; TestLayoutLayersAreReadCompressed pins the type name.
func blobBacked(l v1.Layer) bool {
	return reflect.TypeOf(l).String() == "*partial.compressedLayerExtender"
}

// layerStream is one layer's uncompressed bytes, read ahead in a goroutine.
// It hashes everything it decompressed (and, for blobs, the compressed
// bytes), so the walker can check the config's diffID and the manifest's
// digest (see verify).
type layerStream struct {
	chunks chan []byte
	free   chan []byte
	done   chan struct{}
	wg     sync.WaitGroup
	err    error // set by the producer before it closes chunks
	cur    []byte
	off    int
	h      hash.Hash
	closer func() error
	once   sync.Once
	// blob is true when the stream decompresses the stored blob; then
	// compressed counts and ch hashes the blob bytes read.
	blob       bool
	compressed atomic.Int64
	ch         hash.Hash
	br         *blobReader
}

// blobReader counts and hashes the compressed bytes of a blob and cuts the
// blob at max bytes.
type blobReader struct {
	r   io.Reader
	s   *layerStream
	max int64
	err error // sticky limit error
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n0 := b.s.compressed.Load()
	if b.max > 0 {
		// Allow one byte past the bound to tell "exactly max" from "more".
		if left := b.max + 1 - n0; int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := b.r.Read(p)
	b.s.ch.Write(p[:n])
	b.s.compressed.Store(n0 + int64(n))
	if b.max > 0 && n0+int64(n) > b.max {
		b.err = &limitError{kind: IssueLayerSizeLimit,
			detail: fmt.Sprintf("layer blob has more than %d compressed bytes; the rest of the layer was not scanned", b.max)}
		return n, b.err
	}
	return n, err
}

// openLayer opens l's uncompressed stream; a blob is cut after maxBlob
// compressed bytes (<= 0: no bound).
func openLayer(l v1.Layer, maxBlob int64) (*layerStream, error) {
	s := &layerStream{
		chunks: make(chan []byte, readAheadChunks),
		free:   make(chan []byte, readAheadChunks+2),
		done:   make(chan struct{}),
		h:      sha256.New(),
	}
	var src io.Reader
	if blobBacked(l) {
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		s.blob, s.ch = true, sha256.New()
		s.br = &blobReader{r: rc, s: s, max: maxBlob}
		r, err := decompress(s.br)
		if err != nil {
			rc.Close()
			return nil, err
		}
		src, s.closer = r, func() error {
			if c, ok := r.(io.Closer); ok {
				c.Close()
			}
			return rc.Close()
		}
	} else {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		src, s.closer = rc, rc.Close
	}
	s.wg.Add(1)
	go s.produce(src)
	return s, nil
}

// decompress peeks at the blob's magic like go-containerregistry does: gzip,
// zstd, or (mislabelled layers exist) plain tar.
func decompress(rc io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("peek compression: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zstdCloser{zr}, nil
	}
	return br, nil
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

func (s *layerStream) produce(src io.Reader) {
	defer s.wg.Done()
	defer close(s.chunks)
	for {
		var buf []byte
		select {
		case buf = <-s.free:
		default:
			buf = make([]byte, readAheadChunk)
		}
		// Fill the chunk; only a clean io.EOF ends the stream. A decompressor's
		// io.ErrUnexpectedEOF (truncated gzip or zstd) is an error.
		buf = buf[:cap(buf)]
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = src.Read(buf[n:])
			n += m
		}
		if n > 0 {
			select {
			case s.chunks <- buf[:n]:
			case <-s.done:
				return
			}
		}
		if err != nil {
			if s.br != nil && s.br.err != nil {
				s.err = s.br.err // the limit, however the decompressor wrapped it
			} else if err != io.EOF {
				s.err = err
			}
			return
		}
	}
}

func (s *layerStream) Read(p []byte) (int, error) {
	for s.off == len(s.cur) {
		if s.cur != nil {
			select {
			case s.free <- s.cur[:0]:
			default:
			}
			// Reset both: a Read after the end must find the loop's
			// condition true again, not index a nil chunk at the old offset.
			s.cur, s.off = nil, 0
		}
		c, ok := <-s.chunks
		if !ok {
			if s.err != nil {
				return 0, s.err
			}
			return 0, io.EOF
		}
		// Hashed here, not by the producer: decompression is the longest
		// stage of a single layer's pipeline.
		s.h.Write(c)
		s.cur, s.off = c, 0
	}
	n := copy(p, s.cur[s.off:])
	s.off += n
	return n, nil
}

// verify reads what is left of the stream (the tar trailer's padding, at most
// maxTrailer bytes) and checks the whole uncompressed stream against diffID
// and, for blobs, the compressed bytes against digest and size. diffOK and
// digestOK are what the cache needs: a layer whose bytes are not the ones
// its diffID and digest name is never cached. mismatch is true when the
// blob was read whole and its hash or size is not the manifest's: the bytes
// read are not the blob the image names (corrupted or tampered with on the
// way or in storage), as opposed to a claim that could not be checked, or
// a genuine blob whose config claims another diffID. why explains a
// failure.
func (s *layerStream) verify(diffID, digest v1.Hash, size int64) (diffOK, digestOK, mismatch bool, why string) {
	n, err := io.CopyN(io.Discard, s, maxTrailer+1)
	if n > maxTrailer {
		return false, false, false, fmt.Sprintf("more than %d bytes after the end of the tar archive: digests not verified", maxTrailer)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return false, false, false, fmt.Sprintf("reading past the end of the tar archive: %v: digests not verified", err)
	}
	var whys []string
	switch {
	case diffID == (v1.Hash{}):
		// No diffID in the config: reported as IssueDiffIDMissing.
	case diffID.Algorithm != "sha256":
		whys = append(whys, fmt.Sprintf("diffID %q is not a sha256 digest: not verified", diffID))
	case fmt.Sprintf("%x", s.h.Sum(nil)) != diffID.Hex:
		whys = append(whys, fmt.Sprintf("uncompressed content hashes to sha256:%x, the config's diffID says %s", s.h.Sum(nil), diffID))
	default:
		diffOK = true
	}
	digestOK = true
	if s.blob {
		switch got := s.compressed.Load(); {
		case digest.Algorithm != "sha256":
			digestOK = false
			whys = append(whys, fmt.Sprintf("digest %q is not a sha256 digest: not verified", digest))
		case fmt.Sprintf("%x", s.ch.Sum(nil)) != digest.Hex:
			digestOK, mismatch = false, true
			whys = append(whys, fmt.Sprintf("blob hashes to sha256:%x, the manifest's digest says %s", s.ch.Sum(nil), digest))
		case size > 0 && got != size:
			digestOK, mismatch = false, true
			whys = append(whys, fmt.Sprintf("blob is %d bytes, the manifest says %d", got, size))
		}
	}
	return diffOK, digestOK, mismatch, strings.Join(whys, "; ")
}

// Close stops the producer and closes the underlying streams.
func (s *layerStream) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		for range s.chunks { // unblock and drain the producer
		}
		s.wg.Wait()
		err = s.closer()
	})
	return err
}

// countingReader counts uncompressed bytes and enforces MaxTotalBytes,
// MaxWallTime and MaxLayerUncompressedBytes. It remembers the first stream
// error and whether the stream ended, so the walker can tell a stream that
// was cut short from an analyzer's own error.
type countingReader struct {
	r     io.Reader
	w     *walker
	li    *LayerInfo
	err   error // first error other than io.EOF
	eof   bool  // a read returned no bytes and io.EOF
	limit *limitError
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit != nil {
		return 0, c.limit
	}
	if c.limit = c.w.imageBudget(); c.limit != nil {
		return 0, c.limit
	}
	if max := c.w.opts.maxTotalBytes; max > 0 {
		if left := max - c.w.total; int64(len(p)) > left {
			p = p[:left]
		}
	}
	if max := c.w.opts.maxLayerUncomp; max > 0 {
		left := max - c.li.Bytes
		if left <= 0 {
			c.limit = &limitError{kind: IssueLayerBytesLimit,
				detail: fmt.Sprintf("layer decompresses to more than %d bytes; the rest of the layer was not scanned", max)}
			return 0, c.limit
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.w.total += int64(n)
	c.li.Bytes += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		if n == 0 {
			c.eof = true
		}
	case c.err == nil:
		c.err = err
	}
	return n, err
}

// fileState is what the walker did with the current entry's file, for the

// contentReader bounds what a visitor can read of one file and remembers
// whether it asked for more than the bound while the file had more.
type contentReader struct {
	r         io.Reader
	limit     int64
	size      int64
	n         int64
	truncated bool
}

func (c *contentReader) Read(p []byte) (int, error) {
	if c.limit > 0 {
		if c.n >= c.limit {
			if c.n < c.size {
				c.truncated = true
			}
			return 0, io.EOF
		}
		if left := c.limit - c.n; int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Stream is a layer's uncompressed bytes as the walker reads them (the fast
// decompressors, read ahead in a goroutine, every byte hashed), for other
// readers of whole layers: the sandbox's layer store extracts through it.
type Stream struct {
	s *layerStream
	l v1.Layer
}

// OpenStream opens l's uncompressed stream; a blob is cut after maxBlob
// compressed bytes (<= 0: no bound), which a Read reports as an error.
func OpenStream(l v1.Layer, maxBlob int64) (*Stream, error) {
	s, err := openLayer(l, maxBlob)
	if err != nil {
		return nil, err
	}
	return &Stream{s, l}, nil
}

func (s *Stream) Read(p []byte) (int, error) { return s.s.Read(p) }

// Verify reads what is left of the stream (at most a megabyte of tar
// padding) and checks every uncompressed byte against diffID and, when the
// layer is a stored blob, its compressed bytes against the layer's digest
// and size (asked only then: other layers compute their digest by
// compressing themselves). ok is false, with why, unless both hold: a
// diffID or digest that could not be checked (not sha256, too much
// trailing data) fails too.
func (s *Stream) Verify(diffID v1.Hash) (ok bool, why string) {
	if diffID == (v1.Hash{}) {
		return false, "no diffID to verify the content against"
	}
	var digest v1.Hash
	var size int64
	if s.s.blob {
		var derr, serr error
		digest, derr = s.l.Digest()
		size, serr = s.l.Size()
		if err := errors.Join(derr, serr); err != nil {
			return false, fmt.Sprintf("no digest or size to verify the blob against: %v", err)
		}
	}
	diffOK, digestOK, _, why := s.s.verify(diffID, digest, size)
	return diffOK && digestOK, why
}

// Close stops the read-ahead and closes the layer's streams.
func (s *Stream) Close() error { return s.s.Close() }
