package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"
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

// Detector is the "inventory" baseline. It is safe for concurrent use.
type Detector struct {
	opts     options
	listHash string
	syftVer  string
	memo     *memo
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
	return &Detector{opts: o, listHash: "sha256:" + hex.EncodeToString(sum.Sum(nil)), syftVer: SyftVersion(), memo: newMemo(8)}
}

func (d *Detector) Name() string    { return Name }
func (d *Detector) Version() string { return Version }

// SyftVersion is the syft module version linked into this binary.
func SyftVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == SyftModule {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return "unknown"
}

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

// ecosystemOf maps syft's package types to list ecosystems.
var ecosystemOf = map[pkg.Type]string{
	pkg.DebPkg:      EcoDeb,
	pkg.ApkPkg:      EcoAPK,
	pkg.NpmPkg:      EcoNPM,
	pkg.PythonPkg:   EcoPyPI,
	pkg.GoModulePkg: EcoGo,
	pkg.JavaPkg:     EcoMaven,
	pkg.BinaryPkg:   EcoBinary,
}

// Packages flattens s into Packages, sorted by type, name, version.
func Packages(s *sbom.SBOM) []Package {
	var out []Package
	for p := range s.Artifacts.Packages.Enumerate() {
		q := Package{Ecosystem: ecosystemOf[p.Type], Type: string(p.Type), Name: p.Name, Version: p.Version, FoundBy: p.FoundBy}
		for _, l := range p.Locations.ToSlice() {
			q.Locations = append(q.Locations, Location{Path: l.RealPath, DiffID: l.FileSystemID})
		}
		out = append(out, q)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Type != out[b].Type {
			return out[a].Type < out[b].Type
		}
		if out[a].Name != out[b].Name {
			return out[a].Name < out[b].Name
		}
		return out[a].Version < out[b].Version
	})
	return out
}

// inventory is one image's SBOM as the detector keeps it.
type inventory struct {
	pkgs   []Package
	millis int64
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
		layers := d.opts.layers
		if layers == nil {
			c, done, err := tempLayerCache(d.opts.tempDir)
			if err != nil {
				return nil, err
			}
			defer done()
			layers = c
		}
		s, err := BuildSBOM(ctx, img, layers, nil)
		if err != nil {
			return nil, err
		}
		return &inventory{pkgs: Packages(s), millis: time.Since(t0).Milliseconds()}, nil
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
		"syft_version":     d.syftVer,
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
