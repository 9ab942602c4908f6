package detectors

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"reflect"
	"sync"

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
	// hashed to verify a diffID; a layer with more is not cached.
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
// If hashing, it also computes the sha256 of everything it decompressed, so
// the caller can check the config's diffID claim (see verify).
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
}

// openLayer opens l's uncompressed stream; hashing enables verify.
func openLayer(l v1.Layer, hashing bool) (*layerStream, error) {
	var (
		src    io.Reader
		closer func() error
	)
	if blobBacked(l) {
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		r, err := decompress(rc)
		if err != nil {
			rc.Close()
			return nil, err
		}
		src, closer = r, func() error {
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
		src, closer = rc, rc.Close
	}
	s := &layerStream{
		chunks: make(chan []byte, readAheadChunks),
		free:   make(chan []byte, readAheadChunks+2),
		done:   make(chan struct{}),
		closer: closer,
	}
	if hashing {
		s.h = sha256.New()
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
		n, err := io.ReadFull(src, buf[:cap(buf)])
		if n > 0 {
			if s.h != nil {
				s.h.Write(buf[:n])
			}
			select {
			case s.chunks <- buf[:n]:
			case <-s.done:
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
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
			s.cur = nil
		}
		c, ok := <-s.chunks
		if !ok {
			if s.err != nil {
				return 0, s.err
			}
			return 0, io.EOF
		}
		s.cur, s.off = c, 0
	}
	n := copy(p, s.cur[s.off:])
	s.off += n
	return n, nil
}

// verify reads what is left of the stream (the tar trailer's padding, at most
// maxTrailer bytes) and reports whether the whole stream hashes to diffID.
// A layer whose content does not match its claimed diffID is never cached
// under that diffID.
func (s *layerStream) verify(diffID v1.Hash) bool {
	if s.h == nil || diffID.Algorithm != "sha256" {
		return false
	}
	if n, err := io.CopyN(io.Discard, s, maxTrailer+1); n > maxTrailer || (err != nil && !errors.Is(err, io.EOF)) {
		return false
	}
	return fmt.Sprintf("%x", s.h.Sum(nil)) == diffID.Hex
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
