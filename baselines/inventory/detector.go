package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/layers"
)

// Identity of the detector; results are keyed by it.
const (
	Name    = "inventory"
	Version = "0.1.0"
)

// RulePrefix starts the Rule of every list match: "inventory:<ecosystem>/<name>".
const RulePrefix = "inventory:"

// Option configures New.
type Option func(*options)

type options struct {
	list    *List
	tempDir string
	layers  *LayerCache
	sboms   *SBOMCache
	helper  string
}

// WithList matches against l instead of the committed list.
func WithList(l *List) Option { return func(o *options) { o.list = l } }

// WithTempDir is where each image's decompressed layers are written while
// syft catalogs them (default os.TempDir()) when there is no WithLayerCache;
// they are removed after each scan.
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithLayerCache shares decompressed layers between scans (and with other
// detectors and processes given the same cache): a layer is decompressed
// and verified once, not once per image that has it.
func WithLayerCache(c *LayerCache) Option { return func(o *options) { o.layers = c } }

// WithSBOMCache keeps SBOMs in c (and reuses them): an image whose
// layers and platform another image had, scanned by the same helper
// executable, is not cataloged again.
func WithSBOMCache(c *SBOMCache) Option { return func(o *options) { o.sboms = c } }

// WithHelper runs the SBOM helper at path instead of the one FindHelper
// finds.
func WithHelper(path string) Option { return func(o *options) { o.helper = path } }

// Detector is the "inventory" baseline. It is safe for concurrent use; the
// SBOM helpers it starts on first use stop with Close (or with strata).
type Detector struct {
	opts     options
	listHash string
	memo     *memo

	catOnce sync.Once
	cat     *Cataloger
	catErr  error
}

var _ detectors.Detector = (*Detector)(nil)

// New returns the inventory detector.
func New(opts ...Option) *Detector {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.list == nil {
		o.list = DefaultList()
	}
	sum := sha256.New()
	for _, e := range o.list.Entries {
		fmt.Fprintf(sum, "%s\t%s\t%s\t%s\t%s\n", e.Ecosystem, e.Name, strings.Join(e.Versions, ","), e.Kind, e.Source)
	}
	return &Detector{opts: o, listHash: "sha256:" + hex.EncodeToString(sum.Sum(nil)), memo: newMemo(8)}
}

// cataloger starts the helper pool on first use.
func (d *Detector) cataloger() (*Cataloger, error) {
	d.catOnce.Do(func() {
		path := d.opts.helper
		if path == "" {
			path, d.catErr = FindHelper()
		}
		if d.catErr == nil {
			d.cat = NewCataloger(path, 0)
		}
	})
	return d.cat, d.catErr
}

// Close stops the detector's idle SBOM helpers.
func (d *Detector) Close() error {
	d.catOnce.Do(func() { d.catErr = errors.New("inventory: detector closed") })
	if d.cat != nil {
		return d.cat.Close()
	}
	return nil
}

func (d *Detector) Name() string    { return Name }
func (d *Detector) Version() string { return Version }

// Package is one SBOM entry as the baseline sees it.
type Package struct {
	Ecosystem string `json:"ecosystem"` // list ecosystem, "" when the list has none for syft's type
	Type      string `json:"type"`      // syft's package type
	Name      string `json:"name"`
	Version   string `json:"version"`
	FoundBy   string `json:"found_by"`
	// Locations are the files syft found the package in, each with the
	// layer (diffID) that holds it in the squashed image.
	Locations []Location `json:"locations"`
}

// Location is a file in a layer.
type Location struct {
	Path   string `json:"path"`
	DiffID string `json:"diff_id,omitempty"`
}

// inventory is one image's SBOM as the detector keeps it.
type inventory struct {
	pkgs    []Package
	syftVer string
	millis  int64
}

// Inventory returns img's packages (memoised by manifest digest for the
// last few images, so inventory and inventory+clamav catalog an image once).
func (d *Detector) inventory(ctx context.Context, img v1.Image) (*inventory, error) {
	key := ""
	if dg, err := img.Digest(); err == nil {
		key = dg.String()
	}
	return d.memo.get(key, func() (*inventory, error) {
		t0 := time.Now()
		cat, err := d.cataloger()
		if err != nil {
			return nil, err
		}
		skey := ""
		if d.opts.sboms != nil {
			if skey, err = cat.SBOMKey(img); err != nil {
				return nil, err
			}
			if s, ok := d.opts.sboms.Get(skey); ok {
				return &inventory{pkgs: s.Packages, syftVer: s.SyftVersion, millis: time.Since(t0).Milliseconds()}, nil
			}
		}
		layers := d.opts.layers
		if layers == nil {
			c, done, err := tempLayerCache(d.opts.tempDir)
			if err != nil {
				return nil, err
			}
			defer done()
			layers = c
		}
		s, err := cat.Catalog(ctx, img, layers)
		if err != nil {
			return nil, err
		}
		if d.opts.sboms != nil {
			_ = d.opts.sboms.Put(skey, s) // counted in Stats; the next scan catalogs again
		}
		return &inventory{pkgs: s.Packages, syftVer: s.SyftVersion, millis: time.Since(t0).Milliseconds()}, nil
	})
}

// Scan builds img's SBOM and matches every package against the list: the
// image is malicious when any package matches. Each finding names the
// package, its version, the file syft found it in with that file's layer,
// and the list entry's source.
func (d *Detector) Scan(ctx context.Context, img v1.Image) (detectors.Verdict, error) {
	inv, err := d.inventory(ctx, img)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", Name, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: config: %w", Name, err)
	}
	layerOf := map[string]int{}
	for i, id := range cf.RootFS.DiffIDs {
		layerOf[id.String()] = i
	}
	align := layers.Align(cf.History, len(cf.RootFS.DiffIDs))

	var fs []detectors.Finding
	var blamed []int
	seen := map[int]bool{}
	perType := map[string]int{}
	matched := 0
	for _, p := range inv.pkgs {
		perType[p.Type]++
		if p.Ecosystem == "" {
			continue
		}
		e, ok := d.opts.list.Match(p.Ecosystem, p.Name, p.Version)
		if !ok {
			continue
		}
		matched++
		locs := p.Locations
		if len(locs) == 0 {
			locs = []Location{{}}
		}
		for _, l := range locs {
			f := detectors.Finding{Category: detectors.CategorySignature, Rule: RulePrefix + e.Ecosystem + "/" + e.Name, Weight: 1,
				Evidence: evidence(p, e), Layer: detectors.NoLayer, DiffID: l.DiffID, Path: l.Path}
			if i, ok := layerOf[l.DiffID]; ok {
				f.Layer, f.CreatedBy = i, align.CreatedBy(i)
				if !seen[i] {
					seen[i] = true
					blamed = append(blamed, i)
				}
			}
			fs = append(fs, f)
		}
	}
	sort.Ints(blamed)
	score := 0.0
	if matched > 0 {
		score = 1
	}
	info := map[string]string{
		"syft_version":     inv.syftVer,
		"catalogers":       "syft image defaults +" + strings.Join(ExtraCatalogers, ",+"),
		"scope":            "squashed",
		"list_digest":      d.listHash,
		"list_entries":     strconv.Itoa(len(d.opts.list.Entries)),
		"packages":         strconv.Itoa(len(inv.pkgs)),
		"packages_by_type": countsString(perType),
		"packages_matched": strconv.Itoa(matched),
		"sbom_millis":      strconv.FormatInt(inv.millis, 10),
	}
	return detectors.Verdict{Decision: detectors.Decide(score, 1, fs), Score: score, Threshold: 1,
		Findings: fs, BlamedLayers: blamed, Info: info}, nil
}

func evidence(p Package, e Entry) string {
	v := "any version"
	if e.Versions != nil {
		v = "affected versions " + strings.Join(e.Versions, ", ")
	}
	s := fmt.Sprintf("%s package %s %s (found by %s) is on the %s list (%s; %s)", p.Ecosystem, p.Name, p.Version, p.FoundBy, e.Kind, v, e.Source)
	if e.Note != "" {
		s += ": " + e.Note
	}
	return s
}

func countsString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, ",")
}

// memo keeps the last n inventories by key; concurrent callers of one key
// wait for the first. Errors are not kept.
type memo struct {
	mu    sync.Mutex
	n     int
	order []string
	m     map[string]*memoEntry
}

type memoEntry struct {
	done chan struct{}
	inv  *inventory
	err  error
}

func newMemo(n int) *memo { return &memo{n: n, m: map[string]*memoEntry{}} }

func (m *memo) get(key string, build func() (*inventory, error)) (*inventory, error) {
	if key == "" {
		return build()
	}
	m.mu.Lock()
	if e, ok := m.m[key]; ok {
		m.mu.Unlock()
		<-e.done
		return e.inv, e.err
	}
	e := &memoEntry{done: make(chan struct{})}
	m.m[key] = e
	m.order = append(m.order, key)
	if len(m.order) > m.n {
		delete(m.m, m.order[0])
		m.order = m.order[1:]
	}
	m.mu.Unlock()
	e.inv, e.err = build()
	close(e.done)
	if e.err != nil {
		m.mu.Lock()
		if m.m[key] == e {
			delete(m.m, key)
		}
		m.mu.Unlock()
	}
	return e.inv, e.err
}
