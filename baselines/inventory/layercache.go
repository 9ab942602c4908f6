package inventory

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// DefaultLayerCacheBytes bounds a LayerCache when the caller gives no size.
const DefaultLayerCacheBytes int64 = 8 << 30

// ErrLayerDigest reports a layer blob whose bytes do not hash to the digest
// its manifest names, or whose content does not hash to the diffID its
// config claims.
var ErrLayerDigest = errors.New("layer digest mismatch")

// LayerCache is an on-disk cache of decompressed layer tars shared by scans
// (and by processes: every write is a temporary file renamed into place).
// An entry is keyed by the layer's compressed digest and its diffID, both
// verified while the entry is written: the compressed stream is hashed as
// it is decompressed, the tar as it is written, and a mismatch discards
// the entry. The total size of the entries is bounded; the least recently
// used are evicted first. Scans use an entry through a hard link in their
// own directory, so eviction never pulls a tar from under a running scan.
// A LayerCache is safe for concurrent use.
type LayerCache struct {
	dir      string
	maxBytes int64

	mu       sync.Mutex
	inflight map[string]*fill
	evictMu  sync.Mutex
}

type fill struct {
	done chan struct{}
	err  error
}

// OpenLayerCache opens (creating it) the cache in dir, bounded to maxBytes
// (DefaultLayerCacheBytes when maxBytes < 0; 0 keeps nothing after a scan).
func OpenLayerCache(dir string, maxBytes int64) (*LayerCache, error) {
	if maxBytes < 0 {
		maxBytes = DefaultLayerCacheBytes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("layer cache %s: %w (give a writable directory)", dir, err)
	}
	return &LayerCache{dir: dir, maxBytes: maxBytes, inflight: map[string]*fill{}}, nil
}

// Dir is the cache's directory.
func (c *LayerCache) Dir() string { return c.dir }

const (
	entrySuffix = ".tar"
	partialName = "partial-"
	scanName    = "scan-"
	// Leftovers of a process that died are removed once this old.
	staleAfter = 24 * time.Hour
)

// scanDir is one scan's view of the cache: a directory of hard links to
// the entries the scan reads, removed by Close.
type scanDir struct {
	c   *LayerCache
	dir string
}

func (c *LayerCache) newScanDir() (*scanDir, error) {
	d, err := os.MkdirTemp(c.dir, scanName)
	if err != nil {
		return nil, fmt.Errorf("layer cache: scan dir: %w (give a writable cache directory)", err)
	}
	return &scanDir{c: c, dir: d}, nil
}

func (s *scanDir) Close() error {
	err := os.RemoveAll(s.dir)
	s.c.evict()
	return err
}

// link makes name in the scan dir a verified copy of layer l's tar, whose
// diffID the image config claims is diffID: a hard link to the cache entry,
// filled first when missing.
func (s *scanDir) link(ctx context.Context, l v1.Layer, diffID v1.Hash, name string) error {
	dg, err := l.Digest()
	if err != nil {
		return fmt.Errorf("layer digest: %w", err)
	}
	entry := entryName(dg, diffID)
	dst := filepath.Join(s.dir, name)
	for attempt := 0; ; attempt++ {
		err := os.Link(filepath.Join(s.c.dir, entry), dst)
		if err == nil {
			now := time.Now()
			_ = os.Chtimes(dst, now, now) // least recently used goes first
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt == 2 {
			return fmt.Errorf("layer cache: link %s: %w", entry, err)
		}
		// Missing (or evicted by another scan in between): fill it. The
		// filler links its new tar here before publishing it, so what
		// this scan reads cannot be evicted first.
		if err := s.c.fill(ctx, l, dg, diffID, entry, dst); err != nil {
			return err
		}
		if _, err := os.Lstat(dst); err == nil {
			return nil
		}
	}
}

// fill writes entry once per process at a time; a caller that waited for
// another's fill links the published entry itself.
func (c *LayerCache) fill(ctx context.Context, l v1.Layer, dg, diffID v1.Hash, entry, dst string) error {
	c.mu.Lock()
	if f, ok := c.inflight[entry]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &fill{done: make(chan struct{})}
	c.inflight[entry] = f
	c.mu.Unlock()
	f.err = c.write(l, dg, diffID, entry, dst)
	c.mu.Lock()
	delete(c.inflight, entry)
	c.mu.Unlock()
	close(f.done)
	return f.err
}

// write decompresses l into a temporary file, verifying the compressed
// digest and the diffID on the way, links it to dst, and publishes it as
// entry.
func (c *LayerCache) write(l v1.Layer, dg, diffID v1.Hash, entry, dst string) (err error) {
	if dg.Algorithm != "sha256" || diffID.Algorithm != "sha256" {
		return fmt.Errorf("layer %s: %w: only sha256 digests are verified (digest %s, diffID %s)", dg, ErrLayerDigest, dg.Algorithm, diffID.Algorithm)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("layer %s: open blob: %w", dg, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(c.dir, partialName)
	if err != nil {
		return fmt.Errorf("layer cache: %w (give a writable cache directory)", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // renamed away on success
	}()
	blobSum, tarSum := sha256.New(), sha256.New()
	if err := decompress(io.MultiWriter(tmp, tarSum), io.TeeReader(rc, blobSum)); err != nil {
		return fmt.Errorf("layer %s: decompress: %w", dg, err)
	}
	if got := "sha256:" + hex.EncodeToString(blobSum.Sum(nil)); got != dg.String() {
		return fmt.Errorf("layer %s: %w: the blob hashes to %s; the image store is damaged or was tampered with: re-import the image", dg, ErrLayerDigest, got)
	}
	if got := "sha256:" + hex.EncodeToString(tarSum.Sum(nil)); got != diffID.String() {
		return fmt.Errorf("layer %s: %w: its content hashes to %s but the config claims diffID %s: rebuild the image", dg, ErrLayerDigest, got, diffID)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		return fmt.Errorf("layer cache: link %s: %w", entry, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.dir, entry)); err != nil {
		return fmt.Errorf("layer cache: publish %s: %w", entry, err)
	}
	return nil
}

// decompress copies the tar in the (gzip, zstd or uncompressed) layer blob
// r to w, then drains r so the caller's hash covers every byte of the blob.
// The format is sniffed, as go-containerregistry does, since media types
// are not always honest about it.
func decompress(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, zr); err != nil {
			return err
		}
		if err := zr.Close(); err != nil {
			return err
		}
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return err
		}
		defer zr.Close()
		if _, err := io.Copy(w, zr); err != nil {
			return err
		}
	default:
		if _, err := io.Copy(w, br); err != nil {
			return err
		}
	}
	_, err := io.Copy(io.Discard, br)
	return err
}

// entryName keys an entry by the blob's digest and the tar's diffID: the
// same blob claimed with another diffID is looked up (and rejected) anew.
func entryName(dg, diffID v1.Hash) string {
	return dg.Algorithm + "-" + dg.Hex + "." + diffID.Algorithm + "-" + diffID.Hex + entrySuffix
}

// evict removes the least recently used entries until the cache holds at
// most maxBytes, and leftovers of dead processes.
func (c *LayerCache) evict() {
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	evictLRU(c.dir, entrySuffix, c.maxBytes)
}

// tempLayerCache is a private cache under dir that keeps nothing: the
// caller removes it with the returned func.
func tempLayerCache(dir string) (*LayerCache, func(), error) {
	if dir == "" {
		dir = os.TempDir()
	}
	d, err := os.MkdirTemp(dir, "inventory-layers-")
	if err != nil {
		return nil, nil, fmt.Errorf("layer dir: %w (set --cache-dir or TMPDIR to a writable directory)", err)
	}
	c, err := OpenLayerCache(d, 0)
	if err != nil {
		os.RemoveAll(d)
		return nil, nil, err
	}
	return c, func() { os.RemoveAll(d) }, nil
}

// Size is the total size of the cache's entries.
func (c *LayerCache) Size() (int64, error) {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), entrySuffix) {
			continue
		}
		if info, err := de.Info(); err == nil {
			total += info.Size()
		}
	}
	return total, nil
}
