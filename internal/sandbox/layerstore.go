package sandbox

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// DefaultLayerStoreBytes bounds the extracted layers kept on disk.
const DefaultLayerStoreBytes int64 = 4 << 30

// poolDir is the store's inode pool (inodePool), beside the layers.
const poolDir = "free"

// layerStoreVersion changes whenever extraction changes what a layer
// directory holds, so old directories are never reused.
const layerStoreVersion = "4"

// LayerStore keeps each image layer extracted once, keyed by diffID, as an
// overlayfs lower directory (OCI whiteouts become overlay whiteouts and
// opaque directories), so images that share layers (a base, the benign
// layers of mutated variants) are not written again for every run. It is
// safe for concurrent runs of one process; a layer in use is never evicted.
type LayerStore struct {
	dir      string
	maxBytes int64
	walks    *layercache.Cache // replays the walker's view of a known layer

	pool *inodePool // the inodes of removed layers, reused

	mu    sync.Mutex
	inUse map[string]int
	busy  map[string]chan struct{} // layers being extracted
	// evicted is open while an eviction runs in the background
	// (evictLater) and closed when it ends; evictAgain: another was asked
	// for meanwhile.
	evicted    chan struct{}
	evictAgain bool
}

// NewLayerStore returns a store under dir holding at most maxBytes of
// extracted layers (least recently used evicted first).
func NewLayerStore(dir string, maxBytes int64) *LayerStore {
	return &LayerStore{
		dir: dir, maxBytes: maxBytes,
		walks: layercache.New(layercache.Dir(filepath.Join(dir, "walks"))),
		pool:  newInodePool(filepath.Join(dir, poolDir), defaultPoolFiles),
		inUse: map[string]int{}, busy: map[string]chan struct{}{},
	}
}

// layerMeta is what extraction saw in a layer.
type layerMeta struct {
	// Entries counts every entry created, Files the regular files.
	Entries int      `json:"entries"`
	Files   int      `json:"files"`
	Bytes   int64    `json:"bytes"`
	Skipped []string `json:"skipped,omitempty"`
	Limit   string   `json:"limit,omitempty"`
	// LowerLinks are hard links whose target is not in the layer itself
	// (a file of a lower layer): an overlay of separately extracted layers
	// cannot show them, so an image with any is materialised whole.
	LowerLinks []string `json:"lower_links,omitempty"`
	// MaxBytes and MaxFiles are the budget the layer was extracted under:
	// a layer cut short (Limit) serves a later run only if that run's
	// budget is no larger, else it is extracted again if it can be.
	MaxBytes   int64 `json:"max_bytes"`
	MaxFiles   int   `json:"max_files"`
	MaxEntries int   `json:"max_entries"`
}

// serves reports whether the stored layer is what an extraction under lim
// would write.
func (m layerMeta) serves(lim rootfsLimits) bool {
	return m.Limit == "" || (m.MaxBytes >= lim.maxBytes && m.MaxFiles >= lim.maxFiles && m.MaxEntries >= lim.entryBound())
}

// errLowerLinks: a layer hard-links a file of a lower layer; the caller
// materialises the image's root instead of mounting the stored layers.
var errLowerLinks = errors.New("a layer hard-links a file of a lower layer")

// lowerDirs returns the extracted directories of img's layers, topmost
// first (overlay's lowerdir order), extracting the missing ones, with the
// walker's result; release must be called once the overlay is unmounted.
func (s *LayerStore) lowerDirs(ctx context.Context, img v1.Image, lim rootfsLimits) (rf *Rootfs, lowers []string, release func(), err error) {
	// The layers' diffIDs as a runtime takes them: from the config, one
	// per manifest layer.
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read image config: %w", err)
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list layers: %w", err)
	}
	diffIDs := cf.RootFS.DiffIDs
	if len(diffIDs) != len(ls) {
		return nil, nil, nil, fmt.Errorf("the config's rootfs.diff_ids names %d layers, the image has %d: the image is malformed, rebuild or re-export it", len(diffIDs), len(ls))
	}
	// The walk (which layer wrote each path, for attribution) reads every
	// layer too: it runs beside the extraction rather than before it, so
	// a cold image costs the longer of the two, not their sum.
	type walked struct {
		res *layers.Result
		err error
	}
	wctx, stopWalk := context.WithCancel(ctx)
	walk := make(chan walked, 1)
	walkDone := false
	go func() {
		res, err := layers.WalkAnalyzer(wctx, img, layercache.Wrap(s.walks, "sandbox-view/"+layerStoreVersion, noResults{}))
		walk <- walked{res, err}
	}()
	// Returning early stops the walk and waits for it: nothing of this
	// call reads the image or writes the walk cache after it returns.
	defer func() {
		stopWalk()
		if !walkDone {
			<-walk
		}
	}()
	rf = &Rootfs{}
	var held []func()
	// giveBack is not the named result: a failed return sets that to nil
	// before the deferred call runs.
	giveBack := func() {
		for _, f := range held {
			f()
		}
	}
	defer func() {
		if err != nil {
			giveBack()
		}
	}()
	// Bottom up, each layer extracted within what the layers below it left
	// of the image's budget, so a hostile image's many large layers never
	// write more than one root's bound to the host's disk.
	entries := 0
	// A layer repeated in one image (legacy builds repeat the empty layer)
	// is mounted once, at its topmost place: overlay refuses one directory
	// twice (ELOOP), and the copy above has the lower one's files and
	// whiteouts, so the root is the same.
	topmost := map[v1.Hash]int{}
	for i, d := range diffIDs {
		topmost[d] = i
	}
	for i, d := range diffIDs {
		if d.Hex == "" {
			return nil, nil, nil, fmt.Errorf("layer %d has no diffID in the image config: the image is malformed, rebuild or re-export it", i)
		}
		if topmost[d] != i {
			continue
		}
		key := layerStoreVersion + "-" + d.Hex
		left := rootfsLimits{maxBytes: max(0, lim.maxBytes-rf.Bytes), maxFiles: max(0, lim.maxFiles-rf.Files), maxEntries: lim.entryBound() - entries}
		if left.maxEntries <= 0 {
			left.maxEntries = -1 // none left (0 would mean the default)
		}
		m, give, err := s.acquire(ctx, key, d, func() (v1.Layer, error) { return img.LayerByDiffID(d) }, left)

		if err != nil {
			return nil, nil, nil, fmt.Errorf("extract layer %d (%s): %w", i, d, err)
		}
		held = append(held, give)
		rf.Files += m.Files
		rf.Bytes += m.Bytes
		entries += m.Entries
		rf.Skipped = append(rf.Skipped, m.Skipped...)
		if m.Limit != "" && rf.Limit == "" {
			rf.Limit = m.Limit
		}
		if len(m.LowerLinks) > 0 {
			return nil, nil, nil, fmt.Errorf("layer %d (%s) /%s: %w", i, d, m.LowerLinks[0], errLowerLinks)
		}
		lowers = append([]string{filepath.Join(s.dir, key, "root")}, lowers...)
	}
	w := <-walk
	walkDone = true
	if w.err != nil {
		return nil, nil, nil, fmt.Errorf("walk image: %w", w.err)
	}
	if len(w.res.Layers) != len(diffIDs) {
		return nil, nil, nil, fmt.Errorf("walk image: %d layers, the config names %d", len(w.res.Layers), len(diffIDs))
	}
	for i, li := range w.res.Layers {
		if li.DiffID != diffIDs[i] {
			return nil, nil, nil, fmt.Errorf("walk image: layer %d is %s, the config names %s", i, li.DiffID, diffIDs[i])
		}
	}
	rf.Walk = w.res
	if rf.Limit == "" && (rf.Bytes > lim.maxBytes || rf.Files > lim.maxFiles) {
		rf.Limit = fmt.Sprintf("the layers hold %d files, %d bytes: over the bound of %d files, %d bytes", rf.Files, rf.Bytes, lim.maxFiles, lim.maxBytes)
	}
	return rf, lowers, giveBack, nil
}

// acquire marks key in use and returns its metadata, extracting the layer
// (whose content must hash to diffID) if it is not on disk; release gives it
// back. Other processes may share the store (a scan beside an experiment):
// a layer in use holds a shared flock on its lock file, its extraction an
// exclusive one, and eviction removes only layers it can lock exclusively.
// Within the process, one goroutine at a time locks a given key.
func (s *LayerStore) acquire(ctx context.Context, key string, diffID v1.Hash, layer func() (v1.Layer, error), lim rootfsLimits) (m layerMeta, release func(), err error) {
	for {
		s.mu.Lock()
		if ch, ok := s.busy[key]; ok {
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return layerMeta{}, nil, ctx.Err()
			}
		}
		ch := make(chan struct{})
		s.busy[key] = ch
		s.mu.Unlock()
		m, lf, extracted, err := s.lockLayer(ctx, key, diffID, layer, lim)
		s.mu.Lock()
		delete(s.busy, key)
		close(ch)
		if err == nil {
			s.inUse[key]++
		}
		s.mu.Unlock()
		if err != nil {
			return m, nil, err
		}
		if extracted {
			s.evictLater()
		}
		return m, func() {
			s.mu.Lock()
			s.inUse[key]--
			s.mu.Unlock()
			lf.Close() // drops the shared lock
		}, nil
	}
}

// touch marks dir as just used (eviction removes the least recently used).
func touch(dir string) {
	now := time.Now()
	os.Chtimes(dir, now, now)
}

// lockLayer returns key's metadata with its lock file held shared,
// extracting the layer under an exclusive lock first if it is not on disk.
func (s *LayerStore) lockLayer(ctx context.Context, key string, diffID v1.Hash, layer func() (v1.Layer, error), lim rootfsLimits) (m layerMeta, lf *os.File, extracted bool, err error) {
	dir := filepath.Join(s.dir, key)
	if err := os.MkdirAll(filepath.Join(s.dir, "locks"), 0o700); err != nil {
		return m, nil, false, fmt.Errorf("create layer store: %w", err)
	}
	// Lock files are never removed: a process could hold the old inode.
	lf, err = os.OpenFile(s.lockPath(key), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return m, nil, false, fmt.Errorf("open layer lock: %w", err)
	}
	defer func() {
		if err != nil {
			lf.Close()
		}
	}()
	for {
		// Converting an exclusive lock to a shared one is not atomic: an
		// evictor may remove the layer in between, so meta is read again.
		if err := flock(ctx, lf, unix.LOCK_SH); err != nil {
			return m, nil, false, err
		}
		if m, err := readMeta(dir); err == nil {
			// A layer cut under a smaller budget is extracted again only
			// if nobody uses it now (no waiting: two runs could each hold
			// what the other waits for); otherwise its cut is reported.
			if extracted || m.serves(lim) {
				touch(dir)
				return m, lf, extracted, nil
			}
			if unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
				// On Linux a failed upgrade can drop the shared lock:
				// take it again before using the layer as it is.
				if err := flock(ctx, lf, unix.LOCK_SH); err != nil {
					return m, nil, false, err
				}
				if m, err := readMeta(dir); err == nil {
					touch(dir)
					return m, lf, false, nil
				}
				continue // evicted meanwhile: extract it
			}
		} else if err := flock(ctx, lf, unix.LOCK_EX); err != nil {
			return m, nil, false, err
		}
		if m, err := readMeta(dir); err == nil && m.serves(lim) {
			continue // another process extracted it meanwhile
		}
		l, err := layer()
		if err == nil {
			_, err = s.extract(ctx, dir, key, l, diffID, lim)
		}
		if err != nil {
			return m, nil, false, err
		}
		extracted = true
	}
}

func (s *LayerStore) lockPath(key string) string { return filepath.Join(s.dir, "locks", key) }

// flock takes how (LOCK_SH or LOCK_EX) on f, waiting until ctx is done.
func flock(ctx context.Context, f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("lock layer: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tryLockExclusive returns key's lock file locked exclusively, or nil if
// anyone (this process included) holds it.
func (s *LayerStore) tryLockExclusive(key string) *os.File {
	f, err := os.OpenFile(s.lockPath(key), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		f.Close()
		return nil
	}
	return f
}

func readMeta(dir string) (layerMeta, error) {
	var m layerMeta
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// ErrLayerMismatch: a layer's uncompressed content does not hash to the
// diffID its image's config names. The layer is not stored (the diffID is
// the store's key: trusting it would hand the content to every later image
// naming that diffID) and the run fails.
var ErrLayerMismatch = errors.New("layer content does not match its diffID")

// extract writes l into dir/root through a temporary directory renamed into
// place when complete, so a crash never leaves a half layer that looks done.
// The whole uncompressed stream is hashed and must be diffID: only then is
// the directory stored under that key.
func (s *LayerStore) extract(ctx context.Context, dir, key string, l v1.Layer, diffID v1.Hash, lim rootfsLimits) (layerMeta, error) {
	if diffID.Algorithm != "sha256" {
		return layerMeta{}, fmt.Errorf("%w: diffID %q is not a sha256 digest, so the layer cannot be verified: rebuild or re-export the image", ErrLayerMismatch, diffID)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return layerMeta{}, err
	}
	s.pool.removeAll(dir)
	// Named by key, so eviction can tell an abandoned one (its key not
	// locked: the extracting process died) from one under way.
	tmp, err := os.MkdirTemp(s.dir, "tmp-"+key+"-")
	if err != nil {
		return layerMeta{}, err
	}
	defer s.pool.removeAll(tmp)
	// The walker's stream: faster decompressors, decompression read ahead
	// while the files are written, and every byte hashed.
	st, err := layers.OpenStream(l, 0)
	if errors.Is(err, layers.ErrBlobMismatch) {
		return layerMeta{}, fmt.Errorf("%w: %v", ErrLayerMismatch, err)
	}
	if err != nil {
		return layerMeta{}, err
	}
	defer st.Close()
	m, err := extractLayer(ctx, tar.NewReader(st), filepath.Join(tmp, "root"), lim, s.pool)
	m.MaxBytes, m.MaxFiles, m.MaxEntries = lim.maxBytes, lim.maxFiles, lim.entryBound()
	if err != nil {
		return m, err
	}
	// The tar reader stops at the end-of-archive marker: Verify hashes the
	// rest (a bounded padding) before comparing.
	if ok, why := st.Verify(diffID); !ok {
		return m, fmt.Errorf("%w: %s: the image is not what it claims (a runtime refuses it); export or pull it again", ErrLayerMismatch, why)
	}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o600); err != nil {
		return m, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return m, err
	}
	return m, nil
}

// extractLayer writes one layer's tar as an overlay lower directory, with
// the same sanitising as materialise: only permission bits on files (no
// setuid, setgid or sticky), directories' sticky bit kept, everything owned
// by root, no device nodes or fifos except overlay whiteouts (character
// device 0/0), links created last and only inside dir (os.Root), and the
// byte and file bounds reported as a limit. Regular files reuse pool's
// inodes while it has any (pool may be nil).
func extractLayer(ctx context.Context, tr *tar.Reader, dir string, lim rootfsLimits, pool *inodePool) (layerMeta, error) {
	var m layerMeta
	if err := os.Mkdir(dir, 0o755); err != nil {
		return m, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return m, err
	}
	defer root.Close()
	if pool == nil {
		pool = newInodePool("", 0)
	}
	place := pool.placer(root)
	defer place.close()
	type link struct {
		hard         bool
		name, target string
	}
	var links []link
	dirModes := map[string]os.FileMode{}
	skip := func(p, why string) { m.Skipped = append(m.Skipped, "/"+p+": "+why) }
	// What this extraction made, so the common case (a new path under a
	// known directory) costs no lookups: dirs are directories known to
	// exist, written the other paths an entry created.
	dirs, written := map[string]bool{}, map[string]bool{}
	forget := func(p string) {
		delete(written, p)
		if dirs[p] {
			// Its subdirectories went with it: start over rather
			// than search (a hostile layer could make that quadratic).
			dirs = map[string]bool{}
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, fmt.Errorf("read layer: %w", err)
		}
		p, ok := layers.NormalizePath(h.Name)
		if !ok || p == "" {
			continue
		}
		// The walker's path bounds: a deeper or longer name is not in its
		// view, and bounds the work per entry here.
		if len(p) > layers.DefaultMaxPathBytes || strings.Count(p, "/") >= layers.DefaultMaxPathDepth {
			skip(truncatePath(p), "path beyond the walker's bounds")
			continue
		}
		// Every entry costs an inode: directories, links and whiteouts
		// are bounded too, not only regular files.
		if m.Entries >= lim.entryBound() {
			if m.Limit == "" {
				m.Limit = fmt.Sprintf("entry limit %d reached at /%s", lim.entryBound(), p)
			}
			continue
		}
		m.Entries++
		parent, base := path.Dir(p), path.Base(p)
		if parent != "." && !dirs[parent] {
			if _, err := root.Lstat(parent); err != nil {
				// At most one new directory per path element.
				m.Entries += strings.Count(parent, "/") + 1
			}
			if err := root.MkdirAll(parent, 0o755); err != nil {
				skip(p, "parent: "+err.Error())
				continue
			}
			// No link exists until every entry is written, so a
			// directory made here stays one until a whiteout or a
			// later entry at its path removes it (forget, below).
			for d := parent; d != "" && !dirs[d]; {
				dirs[d] = true
				i := strings.LastIndexByte(d, '/')
				if i < 0 {
					break
				}
				d = d[:i]
			}
		}
		if strings.HasPrefix(base, ".wh.") {
			name := strings.TrimPrefix(base, ".wh.")
			if name == "" || name == "." || name == ".." {
				// ".wh.." would white out the parent, ".wh..." the
				// directory above it: no runtime applies such a name.
				skip(p, "whiteout names no entry")
				continue
			}
			target := path.Join(parent, name)
			if base == ".wh..wh..opq" {
				err = unix.Setxattr(filepath.Join(dir, filepath.FromSlash(parent)), "trusted.overlay.opaque", []byte("y"), 0)
			} else if err = root.RemoveAll(target); err == nil {
				forget(target)
				// The parent was made through root and name is one plain
				// element, so the host path is inside dir.
				err = unix.Mknod(filepath.Join(dir, filepath.FromSlash(target)), unix.S_IFCHR, 0)
				written[target] = true
			}
			if err != nil {
				return m, fmt.Errorf("overlay whiteout for /%s: %w", p, err)
			}
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if !dirs[p] {
				if err := root.MkdirAll(p, 0o755); err != nil {
					skip(p, err.Error())
					continue
				}
				dirs[p] = true
			}
			mode := h.FileInfo().Mode()
			dm := mode.Perm()
			if mode&os.ModeSticky != 0 {
				dm |= os.ModeSticky
			}
			dirModes[p] = dm
		case tar.TypeReg:
			if m.Limit != "" {
				skip(p, "not written (limit)")
				continue
			}
			if m.Files >= lim.maxFiles {
				m.Limit = fmt.Sprintf("file limit %d reached at /%s", lim.maxFiles, p)
				continue
			}
			if m.Bytes+h.Size > lim.maxBytes {
				m.Limit = fmt.Sprintf("byte limit %d reached at /%s (%d bytes)", lim.maxBytes, p, h.Size)
				continue
			}
			// Only an earlier entry of this layer can have put
			// something at p (the directory started empty).
			if written[p] || dirs[p] {
				if root.Remove(p) == nil {
					forget(p)
				}
			}
			f, err := place.create(parent, base, p)
			if errors.Is(err, os.ErrExist) && root.Remove(p) == nil {
				// Something made at p that the caches forgot (they are
				// reset when a directory goes): replace it, as an
				// unconditional Remove did.
				forget(p)
				f, err = place.create(parent, base, p)
			}
			if err != nil {
				skip(p, err.Error())
				continue
			}
			written[p] = true
			n, err := io.Copy(f, io.LimitReader(tr, h.Size))
			if err == nil {
				err = f.Chmod(h.FileInfo().Mode().Perm())
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return m, fmt.Errorf("write /%s: %w", p, err)
			}
			m.Bytes += n
			m.Files++
		case tar.TypeSymlink:
			links = append(links, link{name: p, target: h.Linkname})
		case tar.TypeLink:
			t, ok := layers.NormalizePath(h.Linkname)
			if !ok {
				skip(p, "hard link target outside the root")
				continue
			}
			links = append(links, link{hard: true, name: p, target: t})
		default:
			skip(p, "device node or fifo not created")
		}
	}
	for _, l := range links {
		root.Remove(l.name)
		var err error
		if l.hard {
			if _, serr := root.Lstat(l.target); errors.Is(serr, os.ErrNotExist) {
				m.LowerLinks = append(m.LowerLinks, l.name)
				continue
			}
			err = root.Link(l.target, l.name)
		} else {
			err = root.Symlink(l.target, l.name)
		}
		if err != nil {
			skip(l.name, err.Error())
		}
	}
	ds := make([]string, 0, len(dirModes))
	for d := range dirModes {
		ds = append(ds, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ds)))
	for _, d := range ds {
		// A later entry may have replaced the directory (a file, a
		// whiteout, a link): its mode is not the directory's.
		if fi, err := root.Lstat(d); err != nil || !fi.IsDir() {
			continue
		}
		if err := root.Chmod(d, dirModes[d]); err != nil && !errors.Is(err, os.ErrNotExist) {
			skip(d, err.Error())
		}
	}
	return m, nil
}

// evictLater runs evict in the background, one eviction at a time (a
// request while one runs makes it go round again): removing a layer frees
// its blocks, which costs about as much as writing them, and the run that
// extracted a layer should not wait for that. The store may exceed its
// bound by what is extracted meanwhile.
func (s *LayerStore) evictLater() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.evicted != nil {
		s.evictAgain = true
		return
	}
	done := make(chan struct{})
	s.evicted = done
	go func() {
		defer close(done)
		for {
			s.evict()
			s.mu.Lock()
			again := s.evictAgain
			s.evictAgain = false
			if !again {
				s.evicted = nil
			}
			s.mu.Unlock()
			if !again {
				return
			}
		}
	}()
}

// waitEvictions returns once no background eviction runs.
func (s *LayerStore) waitEvictions() {
	for {
		s.mu.Lock()
		ch := s.evicted
		s.mu.Unlock()
		if ch == nil {
			return
		}
		<-ch
	}
}

// evict removes least recently used layers not in use (by any process)
// until the store is within its bound, and temporary directories of
// extractions that died.
func (s *LayerStore) evict() { s.evictTo(s.maxBytes) }

// Purge removes every layer no run uses now (in this process or another),
// as eviction does, once any eviction under way has ended: their regular
// files go to the store's inode pool. A benchmark calls it to measure cold
// extraction in a store in use.
func (s *LayerStore) Purge() {
	s.waitEvictions()
	s.evictTo(0)
}

// evictTo removes layers until the store holds at most limit bytes (0:
// every layer it may). A layer is first renamed to a temporary name while
// its lock is held exclusively, so no run can find it half removed (a
// process killed while removing leaves a temporary directory, which a later
// eviction removes), and removed after the store's mutex is released.
func (s *LayerStore) evictTo(limit int64) {
	var doomed []string
	defer func() {
		for _, d := range doomed {
			s.pool.removeAll(d)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	type item struct {
		key   string
		used  time.Time
		bytes int64
	}
	var items []item
	var total int64
	for _, e := range ents {
		if k, ok := strings.CutPrefix(e.Name(), "tmp-"); ok {
			// Left by a process that died while extracting (its key is
			// no longer locked), or by an eviction.
			if i := strings.LastIndex(k, "-"); i > 0 && s.busy[k[:i]] == nil {
				if f := s.tryLockExclusive(k[:i]); f != nil {
					doomed = append(doomed, filepath.Join(s.dir, e.Name()))
					f.Close()
				}
			}
			continue
		}
		if !e.IsDir() || e.Name() == "walks" || e.Name() == "locks" || e.Name() == poolDir {
			continue
		}
		m, err := readMeta(filepath.Join(s.dir, e.Name()))
		fi, ferr := e.Info()
		if err != nil || ferr != nil {
			continue
		}
		items = append(items, item{e.Name(), fi.ModTime(), m.Bytes})
		total += m.Bytes
	}
	sort.Slice(items, func(i, j int) bool { return items[i].used.Before(items[j].used) })
	for _, it := range items {
		if limit > 0 && total <= limit {
			return
		}
		if s.inUse[it.key] > 0 || s.busy[it.key] != nil {
			continue
		}
		f := s.tryLockExclusive(it.key) // fails while another process uses it
		if f == nil {
			continue
		}
		gone := filepath.Join(s.dir, "tmp-"+it.key+"-evicted"+strconv.Itoa(os.Getpid())+"."+strconv.FormatUint(s.pool.seq.Add(1), 10))
		if os.Rename(filepath.Join(s.dir, it.key), gone) == nil {
			total -= it.bytes
			doomed = append(doomed, gone)
		}
		f.Close()
	}
}

// noResults is an analyzer that remembers nothing: the walk is for the
// final view (paths, layers, modes) only.
type noResults struct{}

func (noResults) AnalyzeFile(*layers.LayerInfo, *layers.Entry, io.Reader) ([]byte, error) {
	return nil, nil
}
func (noResults) ReplayFile(*layers.LayerInfo, *layers.Entry, []byte) error { return nil }

// fixDirModes gives each directory of the merged root the mode of the
// walker's final view: overlay shows a directory with the attributes of the
// topmost layer holding it, and a layer that only implied a directory (a
// file under /tmp with no entry for /tmp) made it 0755. The change is a
// copy-up into the run's upper directory; the layers are untouched.
func fixDirModes(merged string, res *layers.Result) {
	root, err := os.OpenRoot(merged)
	if err != nil {
		return
	}
	defer root.Close()
	for _, p := range res.Paths() {
		e := res.Files[p]
		if p == "" || e.Hidden || e.Type != layers.TypeDir {
			continue
		}
		want := e.Mode.Perm()
		if e.Mode&os.ModeSticky != 0 {
			want |= os.ModeSticky
		}
		fi, err := root.Lstat(p)
		if err != nil || !fi.IsDir() {
			continue
		}
		if fi.Mode()&(os.ModePerm|os.ModeSticky) != want {
			root.Chmod(p, want)
		}
	}
}

// truncatePath shortens a path for a message.
func truncatePath(p string) string {
	if len(p) > 200 {
		return p[:200] + "..."
	}
	return p
}
