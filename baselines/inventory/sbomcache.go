package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultSBOMCacheBytes bounds an SBOMCache when the caller gives no size.
const DefaultSBOMCacheBytes int64 = 256 << 20

// SBOMCache keeps images' SBOMs on disk, keyed by what the helper's answer
// is a function of (SBOMKey): the helper executable, and of the image only
// the platform and the layers (compressed digest, size, media type,
// diffID, in order). The rest of the config (ENV, labels, entrypoint,
// history, timestamps) is not in the key, so variants that change only the
// config share an entry: stereoscope builds the squashed tree from the
// layer tars, reading of the config only the diffIDs and the OS (a Windows
// image's hard links), and syft's catalogers read that tree, never the
// config. An entry is written only after the layers were staged, that is
// verified against those digests and diffIDs, so a hit trusts exactly what
// a LayerCache hit trusts. The total size is bounded; the least recently
// used entries go first. Safe for concurrent use, also by processes.
type SBOMCache struct {
	dir      string
	maxBytes int64

	evictMu sync.Mutex
	stats   sbomCacheStats
}

type sbomCacheStats struct{ hits, misses, putErrors atomic.Int64 }

// SBOMCacheStats counts lookups and failed writes (a failed write costs
// the next scan of the image its SBOM, never a result).
type SBOMCacheStats struct {
	Hits, Misses, PutErrors int64
}

// OpenSBOMCache opens (creating it) the cache in dir, bounded to maxBytes
// (DefaultSBOMCacheBytes when maxBytes < 0).
func OpenSBOMCache(dir string, maxBytes int64) (*SBOMCache, error) {
	if maxBytes < 0 {
		maxBytes = DefaultSBOMCacheBytes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sbom cache %s: %w (give a writable directory)", dir, err)
	}
	return &SBOMCache{dir: dir, maxBytes: maxBytes}, nil
}

// Stats returns the cache's counters since it was opened.
func (c *SBOMCache) Stats() SBOMCacheStats {
	return SBOMCacheStats{Hits: c.stats.hits.Load(), Misses: c.stats.misses.Load(), PutErrors: c.stats.putErrors.Load()}
}

const sbomEntrySuffix = ".sbom.json"

// sbomEntry is one cached SBOM with its key, checked on read.
type sbomEntry struct {
	Key         string    `json:"key"`
	SyftVersion string    `json:"syft_version"`
	Packages    []Package `json:"packages"`
}

func (c *SBOMCache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:])+sbomEntrySuffix)
}

// Get returns the SBOM cached under key.
func (c *SBOMCache) Get(key string) (*SBOM, bool) {
	p := c.path(key)
	b, err := os.ReadFile(p)
	var e sbomEntry
	if err != nil || json.Unmarshal(b, &e) != nil || e.Key != key {
		if err == nil { // damaged or another key: the next Put replaces it
			_ = os.Remove(p)
		}
		c.stats.misses.Add(1)
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // least recently used goes first
	c.stats.hits.Add(1)
	return &SBOM{Packages: e.Packages, SyftVersion: e.SyftVersion}, true
}

// Put stores s under key (a temporary file renamed into place).
func (c *SBOMCache) Put(key string, s *SBOM) error {
	err := c.put(key, s)
	if err != nil {
		c.stats.putErrors.Add(1)
	}
	return err
}

func (c *SBOMCache) put(key string, s *SBOM) error {
	b, err := json.Marshal(sbomEntry{Key: key, SyftVersion: s.SyftVersion, Packages: s.Packages})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, partialName)
	if err != nil {
		return fmt.Errorf("sbom cache: %w (give a writable cache directory)", err)
	}
	defer os.Remove(tmp.Name()) // renamed away on success
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("sbom cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sbom cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path(key)); err != nil {
		return fmt.Errorf("sbom cache: %w", err)
	}
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	evictLRU(c.dir, sbomEntrySuffix, c.maxBytes)
	return nil
}

// sbomKey is the content key of img's SBOM as made by the helper whose
// executable hashes to helperID. See SBOMCache for why each part is there
// and the config's other fields are not.
func sbomKey(helperID string, img v1.Image) (string, error) {
	m, err := img.Manifest()
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	if len(cf.RootFS.DiffIDs) != len(m.Layers) {
		return "", fmt.Errorf("config lists %d diffIDs for %d layers", len(cf.RootFS.DiffIDs), len(m.Layers))
	}
	type layer struct {
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
		MediaType string `json:"media_type"`
		DiffID    string `json:"diff_id"`
	}
	k := struct {
		Schema       int     `json:"schema"`
		Protocol     int     `json:"protocol"`
		Helper       string  `json:"helper"`
		OS           string  `json:"os"`
		Architecture string  `json:"architecture"`
		Variant      string  `json:"variant"`
		Layers       []layer `json:"layers"`
	}{Schema: 1, Protocol: Protocol, Helper: helperID, OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	for i, d := range m.Layers {
		k.Layers = append(k.Layers, layer{d.Digest.String(), d.Size, string(d.MediaType), cf.RootFS.DiffIDs[i].String()})
	}
	b, err := json.Marshal(k)
	return string(b), err
}

// fileID is the SHA-256 of the file at path: a helper rebuilt from other
// sources (another syft, other catalogers) keys its SBOMs apart.
func fileID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// evictLRU removes the least recently used entries (names ending in
// suffix, used = modified) of dir until they total at most maxBytes, and
// the leftovers (partial files, scan dirs) of processes that died.
func evictLRU(dir, suffix string, maxBytes int64) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var ents []lruEntry
	var total int64
	now := time.Now()
	for _, de := range des {
		info, err := de.Info()
		if err != nil {
			continue
		}
		p := filepath.Join(dir, de.Name())
		switch {
		case strings.HasSuffix(de.Name(), suffix) && info.Mode().IsRegular():
			ents = append(ents, lruEntry{p, info.Size(), info.ModTime()})
			total += info.Size()
		case (strings.HasPrefix(de.Name(), partialName) || strings.HasPrefix(de.Name(), scanName)) && now.Sub(info.ModTime()) > staleAfter:
			_ = os.RemoveAll(p)
		}
	}
	if total <= maxBytes {
		return
	}
	sort.Slice(ents, func(a, b int) bool { return ents[a].used.Before(ents[b].used) })
	for _, e := range ents {
		if total <= maxBytes {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
	}
}

type lruEntry struct {
	path string
	size int64
	used time.Time
}
