package layercache

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Cache keeps layer records (see record.go) by content: the key is the
// layer's diffID, the walk options that change what a layer yields
// (MaxFileBytes, MaxEntries) and the analyzer's own key (name, version,
// options, data). It holds records in memory, least recently used first out,
// bounded by bytes and by count, and optionally in a directory, one file per
// key. It is safe for concurrent use and meant to be shared by every scan of
// a process (and, through the directory, across processes).
//
// A record is only stored after the walk read the layer completely within
// the limits and the uncompressed stream hashed to the diffID the config
// claims, so an image cannot plant a record under another layer's diffID.
// The directory is a trust boundary: records are checksummed, not
// authenticated, so the directory must be writable by the current user
// only (see Check).
type Cache struct {
	opts options

	mu    sync.Mutex
	lru   *list.List // of *cacheItem, front = most recent
	items map[string]*list.Element
	bytes int64
	stats Stats
	// inflight are the keys a walk is recording right now.
	inflight map[string]chan struct{}
}

type cacheItem struct {
	key    string
	record []byte
}

// Stats counts what a Cache did; DiskErrors are not fatal (a record
// that cannot be written is recomputed next time), LastDiskError says why.
type Stats struct {
	Hits          int64  `json:"hits"`
	DiskHits      int64  `json:"disk_hits"`
	Misses        int64  `json:"misses"`
	Stores        int64  `json:"stores"`
	Evictions     int64  `json:"evictions"`
	Rejected      int64  `json:"rejected"` // corrupt or unusable records dropped
	DiskErrors    int64  `json:"disk_errors"`
	LastDiskError string `json:"last_disk_error,omitempty"`
	Entries       int    `json:"entries"`
	Bytes         int64  `json:"bytes"`
}

type options struct {
	maxBytes   int64
	maxEntries int
	dir        string
}

// Option configures a Cache.
type Option func(*options)

// Default memory bounds of a Cache. A record costs about 40 bytes per
// tar entry: a Debian base layer (~10,000 entries) is ~0.5 MB.
const (
	DefaultMaxBytes   int64 = 128 << 20
	DefaultMaxEntries       = 4096
)

// CacheMaxBytes bounds the memory held by records; a record larger than a
// quarter of it is kept on disk only (if there is a directory).
func MaxBytes(n int64) Option { return func(o *options) { o.maxBytes = n } }

// CacheMaxEntries bounds the number of records held in memory.
func MaxEntries(n int) Option { return func(o *options) { o.maxEntries = n } }

// CacheDir also keeps records in dir (created mode 0700 on first write).
// Files are written atomically (temporary file + rename), carry a format
// version, the full key and a sha256; anything else found there (also a
// file larger than any record) is ignored and recomputed. A directory
// another user owns, or that group or others can write, is refused (Check).
func Dir(dir string) Option { return func(o *options) { o.dir = dir } }

// New returns an empty cache.
func New(opts ...Option) *Cache {
	o := options{maxBytes: DefaultMaxBytes, maxEntries: DefaultMaxEntries}
	for _, opt := range opts {
		opt(&o)
	}
	return &Cache{opts: o, lru: list.New(), items: map[string]*list.Element{}}
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Bytes = c.lru.Len(), c.bytes
	return s
}

// recordFormat versions the record encoding and the key layout; bump it when
// either changes so old files are ignored.
const recordFormat = 2

// cacheKey names one layer's record. Everything that changes what replaying
// the layer must yield is in it: the analyzer's key, the walk options the
// walker encodes in walkKey (MaxFileBytes, MaxEntries, MaxPathBytes,
// MaxPathDepth) and the diffID.
func cacheKey(analyzer, walkKey, diffID string) string {
	return "strata-layer-record/" + strconv.Itoa(recordFormat) +
		"\x00analyzer=" + analyzer + walkKey +
		"\x00diff-id=" + diffID
}

// recordLimit is the largest record worth building while a layer streams.
func (c *Cache) recordLimit() int {
	if c.opts.dir != "" {
		return 1 << 30
	}
	return int(c.opts.maxBytes / 4)
}

func (c *Cache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.lru.MoveToFront(el)
		c.stats.Hits++
		rec := el.Value.(*cacheItem).record
		c.mu.Unlock()
		return rec, true
	}
	c.mu.Unlock()
	if rec, ok := c.readDisk(key); ok {
		c.mu.Lock()
		c.stats.DiskHits++
		c.mu.Unlock()
		c.putMemory(key, rec)
		return rec, true
	}
	c.mu.Lock()
	c.stats.Misses++
	c.mu.Unlock()
	return nil, false
}

// has reports whether a record for key is in memory or on disk, without
// reading it.
func (c *Cache) has(key string) bool {
	c.mu.Lock()
	_, ok := c.items[key]
	c.mu.Unlock()
	if ok || c.opts.dir == "" {
		return ok
	}
	fi, err := os.Stat(c.path(key))
	return err == nil && fi.Mode().IsRegular()
}

func (c *Cache) put(key string, rec []byte) {
	c.mu.Lock()
	c.stats.Stores++
	c.mu.Unlock()
	c.putMemory(key, rec)
	c.writeDisk(key, rec)
}

func (c *Cache) putMemory(key string, rec []byte) {
	size := int64(len(rec) + len(key))
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.bytes -= int64(len(el.Value.(*cacheItem).record) + len(key))
		c.lru.Remove(el)
		delete(c.items, key)
	}
	if c.opts.maxEntries <= 0 || c.opts.maxBytes <= 0 || size > c.opts.maxBytes/4 {
		return
	}
	c.items[key] = c.lru.PushFront(&cacheItem{key: key, record: rec})
	c.bytes += size
	for c.bytes > c.opts.maxBytes || c.lru.Len() > c.opts.maxEntries {
		el := c.lru.Back()
		it := el.Value.(*cacheItem)
		c.lru.Remove(el)
		delete(c.items, it.key)
		c.bytes -= int64(len(it.record) + len(it.key))
		c.stats.Evictions++
	}
}

// drop forgets a record that could not be replayed, in memory and on disk.
func (c *Cache) drop(key string) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.bytes -= int64(len(el.Value.(*cacheItem).record) + len(key))
		c.lru.Remove(el)
		delete(c.items, key)
	}
	c.stats.Rejected++
	c.mu.Unlock()
	if c.opts.dir != "" {
		os.Remove(c.path(key))
	}
}

// On-disk format: fileMagic, uvarint recordFormat, uvarint len + key,
// uvarint len + record, then the sha256 of everything before it.
var fileMagic = []byte("strata layer record\n")

func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.opts.dir, hex.EncodeToString(sum[:])+".rec")
}

func encodeFile(key string, rec []byte) []byte {
	b := make([]byte, 0, len(fileMagic)+len(key)+len(rec)+64)
	b = append(b, fileMagic...)
	b = binary.AppendUvarint(b, recordFormat)
	b = appendString(b, key)
	b = binary.AppendUvarint(b, uint64(len(rec)))
	b = append(b, rec...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// decodeFile returns the record of a cache file if it is intact, of this
// format, for this key, and structurally valid.
func decodeFile(b []byte, key string) ([]byte, error) {
	if len(b) < len(fileMagic)+sha256.Size || !bytes.HasPrefix(b, fileMagic) {
		return nil, errors.New("not a layer record file")
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(sum, want[:]) {
		return nil, errors.New("checksum mismatch")
	}
	s := &recordSource{b: body[len(fileMagic):]}
	v, err := s.uvarint()
	if err != nil || v != recordFormat {
		return nil, fmt.Errorf("format %d, want %d", v, recordFormat)
	}
	k, err := s.bytesN()
	if err != nil || string(k) != key {
		return nil, errors.New("key mismatch")
	}
	rec, err := s.bytesN()
	if err != nil || len(s.b) != 0 {
		return nil, errors.New("bad record length")
	}
	if err := validateRecord(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// maxFileBytes bounds a record file read from the directory: the largest
// record a walk builds, its key and the framing. A larger file was not
// written by a Cache; it is dropped unread and the layer read again.
func (c *Cache) maxFileBytes(key string) int64 {
	return int64(c.recordLimit()) + int64(len(key)) + 64
}

func (c *Cache) readDisk(key string) ([]byte, bool) {
	if c.opts.dir == "" {
		return nil, false
	}
	if err := c.Check(); err != nil {
		c.diskError(err)
		return nil, false
	}
	p := c.path(key)
	b, err := readBounded(p, c.maxFileBytes(key))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.diskError(err)
		}
		if errors.Is(err, errRecordTooLarge) {
			c.reject(p)
		}
		return nil, false
	}
	rec, err := decodeFile(b, key)
	if err != nil {
		c.reject(p)
		return nil, false
	}
	return rec, true
}

var errRecordTooLarge = errors.New("cache record file larger than any record a walk writes")

// readBounded reads the file at p if it has at most max bytes, checked
// before reading (and while reading, should it grow).
func readBounded(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > max {
		return nil, fmt.Errorf("%s: %w", p, errRecordTooLarge)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("%s: %w", p, errRecordTooLarge)
	}
	return b, err
}

// reject drops an unusable record file; the scan recomputes and rewrites it.
func (c *Cache) reject(p string) {
	c.mu.Lock()
	c.stats.Rejected++
	c.mu.Unlock()
	os.Remove(p)
}

// Check reports whether the cache directory can be trusted (nil when there
// is none or it does not exist yet: it is created private). Records are
// checksummed, not authenticated: whoever can write the directory can
// plant a record that replays a layer as clean. So the directory must be
// owned by the current user and not writable by group or others; a
// detector refuses to scan with one that is not.
func (c *Cache) Check() error {
	if c == nil || c.opts.dir == "" {
		return nil
	}
	fi, err := os.Stat(c.opts.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("layer cache directory: %w", err)
	}
	return checkDir(c.opts.dir, fi)
}

func (c *Cache) writeDisk(key string, rec []byte) {
	if c.opts.dir == "" {
		return
	}
	if err := os.MkdirAll(c.opts.dir, 0o700); err != nil {
		c.diskError(err)
		return
	}
	if err := c.Check(); err != nil {
		c.diskError(err)
		return
	}
	f, err := os.CreateTemp(c.opts.dir, ".tmp-*")
	if err != nil {
		c.diskError(err)
		return
	}
	_, err = f.Write(encodeFile(key, rec))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path(key))
	}
	if err != nil {
		os.Remove(f.Name())
		c.diskError(err)
	}
}

func (c *Cache) diskError(err error) {
	c.mu.Lock()
	c.stats.DiskErrors++
	c.stats.LastDiskError = err.Error()
	c.mu.Unlock()
}

// claim marks key as being recorded by the caller and returns nil, or
// returns a channel that is closed once the walk recording it is done.
func (c *Cache) claim(key string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, busy := c.inflight[key]; busy {
		return ch
	}
	if c.inflight == nil {
		c.inflight = map[string]chan struct{}{}
	}
	c.inflight[key] = make(chan struct{})
	return nil
}

// release ends the claim on key.
func (c *Cache) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.inflight[key]; ok {
		close(ch)
		delete(c.inflight, key)
	}
}
