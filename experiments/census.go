package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/baselines/inventory"
	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/census"
	"github.com/strata-sec/strata/corpus/debs"
	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/store"
)

// Census is the benign census (issue #18): one image per package of the
// pre-registered lists of corpus/census (Debian packages, Debian's
// python3-* distributions, the most-downloaded npm packages), assembled
// with go-containerregistry, plus the ordinary stratum (the 24 images the
// census held before: corpus/benign's census set and benign corpus, the
// two bases), scanned by every detector for the false-positive rate per
// ecosystem.
const Census = "census"

// CensusRunFile and CensusImagesFile are written beside the records: the
// run's time and disk, and every census image's layer sizes.
const (
	CensusRunFile    = "census-run.json"
	CensusImagesFile = "census-images.tsv"
	// CensusCanaryFile holds the records of the positive controls
	// (census.Canaries), apart from the census's records so that no
	// false-positive rate ever counts them.
	CensusCanaryFile = "canaries.jsonl"
)

// censusLayerFormat versions the assembly: a change makes every census
// image's inputs key new.
const censusLayerFormat = "census-layer-1"

// Store annotations of a census image, so a resumed run reports the cost
// of images it did not assemble itself.
const (
	annCensusEcosystem  = "dev.strata.census.ecosystem"
	annCensusLayerSize  = "dev.strata.census.layer-size"
	annCensusDiffSize   = "dev.strata.census.layer-diff-size"
	annCensusDownload   = "dev.strata.census.download-bytes"
	annCensusAssembleMS = "dev.strata.census.assemble-ms"
)

// The runtimes the Python and npm images are assembled FROM: the Debian
// base plus one layer with these packages and their dependencies (Debian's
// .debs, resolved against the base's dpkg status).
var censusRuntimes = map[string][]string{census.Python: {"python3"}, census.NPM: {"nodejs"}}

// CensusFetchJobs bounds simultaneous downloads.
const CensusFetchJobs = 3

func init() { Register(censusExperiment{}) }

type censusExperiment struct{}

func (censusExperiment) Name() string { return Census }
func (censusExperiment) Summary() string {
	return "benign census: one image per Debian package, python3-* distribution and top npm package (corpus/census), plus 24 ordinary images: false-positive rate per ecosystem"
}
func (censusExperiment) Flags() []string {
	return []string{FlagBenign, FlagDetectors, FlagSplit, FlagLimit, FlagEcosystem}
}

// censusSubject is one subject of a run before its image exists.
type censusSubject struct {
	eco   string
	entry census.Entry // list ecosystems
	name  string       // ordinary: the corpus/benign image or base name
}

// CensusRun is census-run.json: what the run cost.
type CensusRun struct {
	Ecosystems []CensusCost `json:"ecosystems"`
	// FetchSeconds and AssembleSeconds are this run's wall time of the
	// two phases (a resumed run fetches and assembles only what is
	// missing).
	FetchSeconds    float64 `json:"fetch_seconds"`
	AssembleSeconds float64 `json:"assemble_seconds"`
	// StoreBytes is the size of the census images' distinct blobs in the
	// store (bases included), WholeStoreBytes the store directory's.
	StoreBytes      int64 `json:"store_bytes"`
	WholeStoreBytes int64 `json:"whole_store_bytes"`
}

// CensusCost sums one ecosystem's images; the download, size and assembly
// figures come from the store annotations of the first assembly.
type CensusCost struct {
	Ecosystem     string `json:"ecosystem"`
	Images        int    `json:"images"`
	AssembledNow  int    `json:"assembled_now"`
	DownloadBytes int64  `json:"download_bytes"`
	LayerBytes    int64  `json:"layer_bytes"`
	DiffBytes     int64  `json:"layer_diff_bytes"`
	AssembleMS    int64  `json:"assemble_ms"`
}

func (censusExperiment) Plan(ctx context.Context, env *Env) (*Plan, error) {
	s := env.Config.Slice
	ecos := census.Ecosystems
	if len(s.Ecosystems) > 0 {
		ecos = s.Ecosystems
	}
	subjects, err := censusSubjects(ecos, s)
	if err != nil {
		return nil, err
	}
	var (
		built  []Built
		run    CensusRun
		images strings.Builder
	)
	images.WriteString("image\tecosystem\tsplit\tlayer_bytes\tlayer_diff_bytes\n")
	var entries []census.Entry
	for _, eco := range []string{census.Debian, census.Python, census.NPM} {
		for _, sub := range subjects[eco] {
			entries = append(entries, sub.entry)
		}
	}
	cacheDir := filepath.Join(env.Config.CacheDir, "census")
	t0 := time.Now()
	fetched, err := census.FetchAll(ctx, entries, cacheDir, CensusFetchJobs, env.Config.Log)
	if err != nil {
		return nil, err
	}
	run.FetchSeconds = time.Since(t0).Seconds()
	t0 = time.Now()
	bases := map[string]v1.Image{}
	for _, eco := range []string{census.Debian, census.Python, census.NPM} {
		if len(subjects[eco]) == 0 {
			continue
		}
		if bases[eco], err = env.censusBase(ctx, eco); err != nil {
			return nil, err
		}
	}
	assembled, err := env.assembleCensus(ctx, fetched, bases)
	if err != nil {
		return nil, err
	}
	canaries, err := env.censusCanaries(bases)
	if err != nil {
		return nil, err
	}
	run.AssembleSeconds = time.Since(t0).Seconds()
	costs := map[string]*CensusCost{}
	for _, eco := range census.Ecosystems {
		costs[eco] = &CensusCost{Ecosystem: eco}
	}
	for _, a := range assembled {
		c := costs[a.Family]
		c.Images++
		if !a.Cached {
			c.AssembledNow++
		}
		ann := a.Descriptor.Annotations
		c.DownloadBytes += atoi64(ann[annCensusDownload])
		c.LayerBytes += atoi64(ann[annCensusLayerSize])
		c.DiffBytes += atoi64(ann[annCensusDiffSize])
		c.AssembleMS += atoi64(ann[annCensusAssembleMS])
		fmt.Fprintf(&images, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Family, a.Split, ann[annCensusLayerSize], ann[annCensusDiffSize])
		built = append(built, a)
	}
	ordinary, err := env.censusOrdinary(ctx, subjects[census.Ordinary])
	if err != nil {
		return nil, err
	}
	costs[census.Ordinary].Images = len(ordinary)
	built = append(built, ordinary...)
	for _, eco := range census.Ecosystems {
		if costs[eco].Images > 0 {
			run.Ecosystems = append(run.Ecosystems, *costs[eco])
		}
	}
	if run.StoreBytes, err = blobBytes(built); err != nil {
		return nil, err
	}
	run.WholeStoreBytes, _ = census.DirSize(env.Config.StoreDir)
	js, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return nil, err
	}
	return &Plan{
		Built: len(built),
		Passes: []Pass{{File: RecordsFile, Experiment: Census, Images: built, Detectors: censusDetectors},
			{File: CensusCanaryFile, Experiment: Census, Images: canaries, Detectors: censusDetectors}},
		Files: map[string][]byte{CensusRunFile: append(js, '\n'), CensusImagesFile: []byte(images.String())},
	}, nil
}

// censusSubjects selects the run's subjects: the lists of ecos (the
// ordinary stratum is dev only), the split, then the --limit prefix of
// each ecosystem in run order.
func censusSubjects(ecos []string, s Slice) (map[string][]censusSubject, error) {
	out := map[string][]censusSubject{}
	sizes := map[string]int{}
	for _, eco := range ecos {
		if eco == census.Ordinary {
			if s.Split == census.Test {
				continue
			}
			for _, n := range ordinaryNames() {
				if s.keepsBenign(n) {
					out[eco] = append(out[eco], censusSubject{eco: eco, name: n})
				}
			}
		} else {
			es, err := census.List(eco)
			if err != nil {
				return nil, err
			}
			census.RunOrder(es)
			for _, e := range es {
				if s.Split == "" || e.Split == s.Split {
					out[eco] = append(out[eco], censusSubject{eco: eco, entry: e})
				}
			}
		}
		sizes[eco] = len(out[eco])
	}
	n := census.Allocate(census.Ecosystems, sizes, s.Limit)
	for eco := range out {
		out[eco] = out[eco][:n[eco]]
	}
	return out, nil
}

// ordinaryNames are the ordinary stratum's names: corpus/benign's census
// set and benign corpus, then the two bases.
func ordinaryNames() []string {
	var out []string
	for _, im := range append(benign.CensusImages(), benign.Images()...) {
		out = append(out, im.Name)
	}
	return append(out, "debian-base", "web-app")
}

// censusOrdinary builds (BuildKit, corpus/benign) or finds the ordinary
// stratum's images.
func (e *Env) censusOrdinary(ctx context.Context, subs []censusSubject) ([]Built, error) {
	if len(subs) == 0 {
		return nil, nil
	}
	keep := map[string]bool{}
	for _, s := range subs {
		keep[s.name] = true
	}
	images := filterImages(append(benign.CensusImages(), benign.Images()...), func(n string) bool { return keep[n] })
	bs, err := e.buildBenignImages(ctx, Census, images)
	if err != nil {
		return nil, err
	}
	var built []Built
	for _, b := range bs {
		built = append(built, b.Built)
	}
	for _, b := range []struct {
		name, store string
		desc        v1.Descriptor
	}{{"debian-base", base.DebianName, e.Debian}, {"web-app", drupal.DefaultWebImage, e.Web}} {
		if !keep[b.name] {
			continue
		}
		img, err := e.Store.Image(b.desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("census: %s (%s): %w", b.name, b.store, err)
		}
		built = append(built, Built{Name: b.store, Case: b.name, Seed: e.Config.Seed, Descriptor: b.desc, Image: img, Cached: true})
	}
	for i := range built {
		built[i].Family, built[i].Split = census.Ordinary, census.Dev
	}
	return built, nil
}

// censusBase returns the image eco's subjects are assembled FROM: the
// Debian base, or the base plus a runtime layer (censusRuntimes) made once
// and kept in the store under census/base-<eco>.
func (e *Env) censusBase(ctx context.Context, eco string) (v1.Image, error) {
	debian, err := e.Store.Image(e.Debian.Digest)
	if err != nil {
		return nil, err
	}
	pkgs, ok := censusRuntimes[eco]
	if !ok {
		return debian, nil
	}
	statuses, err := e.dpkgStatuses()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.Config.CacheDir, "census", "runtime-"+eco, e.Debian.Digest.Hex[:16])
	if err := debs.Fetch(ctx, statuses[benign.FromDebian], dir, pkgs); err != nil {
		return nil, fmt.Errorf("census: %s runtime: %w", eco, err)
	}
	m, err := debs.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	parts := []string{censusLayerFormat, e.Debian.Digest.String()}
	var ds []census.Deb
	for _, d := range m.Debs {
		parts = append(parts, d.SHA256)
		ds = append(ds, census.Deb{Path: filepath.Join(dir, d.File), Package: d.Name})
	}
	key := base.InputsKey(parts...)
	name := "census/base-" + eco
	if ent, err := e.Store.Lookup(name); err == nil && ent.Annotation(store.AnnInputs) == key {
		return e.Store.Image(ent.Descriptor.Digest)
	}
	lf, err := census.WriteDebLayer(filepath.Join(e.tmp, "census-base-"+eco+".tar.gz"), ds)
	if err != nil {
		return nil, err
	}
	defer os.Remove(lf.Path)
	img, err := census.Assemble(debian, lf, "strata census: "+eco+" runtime: Debian packages "+strings.Join(pkgs, " ")+
		" and their dependencies (files of the .debs and their maintainer scripts)", DefaultEpoch, "")
	if err != nil {
		return nil, err
	}
	desc, err := e.Store.Put(img, name, map[string]string{store.AnnExperiment: Census, store.AnnLabel: LabelBenign, store.AnnInputs: key})
	if err != nil {
		return nil, err
	}
	return e.Store.Image(desc.Digest)
}

// assembleCensus makes (or finds in the store) one image per fetched
// subject, Config.Jobs at a time.
func (e *Env) assembleCensus(ctx context.Context, fetched []census.Fetched, bases map[string]v1.Image) ([]Built, error) {
	out := make([]Built, len(fetched))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     int
		done     int
	)
	start, lastLog := time.Now(), time.Now()
	for range max(1, e.Config.Jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := i >= len(fetched) || firstErr != nil || ctx.Err() != nil
				mu.Unlock()
				if stop {
					return
				}
				b, err := e.assembleOne(fetched[i], bases[fetched[i].Entry.Ecosystem])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[i] = b
				done++
				if time.Since(lastLog) > 5*time.Second || done == len(fetched) {
					lastLog = time.Now()
					e.logf("census: images %d/%d (%.0fs)", done, len(fetched), time.Since(start).Seconds())
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// assembleOne makes one census image: base + the subject's layer, stored
// as census/<ecosystem>/<name> and keyed by its inputs.
func (e *Env) assembleOne(f census.Fetched, baseImg v1.Image) (Built, error) {
	en := f.Entry
	name := "census/" + en.Ecosystem + "/" + en.Name
	bd, err := baseImg.Digest()
	if err != nil {
		return Built{}, err
	}
	key := base.InputsKey(censusLayerFormat, bd.String(), en.Ecosystem, en.Name, en.Version, en.SHA256, en.Integrity)
	b := Built{Name: name, Case: en.Ecosystem, Seed: census.Seed, Family: en.Ecosystem, Split: en.Split}
	if ent, err := e.Store.Lookup(name); err == nil && ent.Annotation(store.AnnInputs) == key {
		img, err := e.Store.Image(ent.Descriptor.Digest)
		if err != nil {
			return Built{}, err
		}
		b.Descriptor, b.Image, b.Cached = ent.Descriptor, img, true
		return b, nil
	}
	t0 := time.Now()
	tmp := filepath.Join(e.tmp, "census-"+strings.ReplaceAll(en.Ecosystem+"-"+en.Name, "/", "+")+".tar.gz")
	defer os.Remove(tmp)
	var (
		lf        census.LayerFile
		createdBy string
		workdir   string
	)
	if en.Ecosystem == census.NPM {
		lf, err = census.WriteNPMLayer(tmp, f.Path, DefaultEpoch)
		createdBy = fmt.Sprintf("strata census: npm install --ignore-scripts --omit=dev %s@%s into /%s (node_modules, package.json, package-lock.json)", en.Name, en.Version, census.AppDir)
		workdir = "/" + census.AppDir
	} else {
		lf, err = census.WriteDebLayer(tmp, []census.Deb{{Path: f.Path, Package: en.Name}})
		createdBy = fmt.Sprintf("strata census: Debian package %s %s (%s): files of the .deb and its maintainer scripts", en.Name, en.Version, en.Architecture)
	}
	if err != nil {
		return Built{}, fmt.Errorf("census %s: %w", name, err)
	}
	img, err := census.Assemble(baseImg, lf, createdBy, DefaultEpoch, workdir)
	if err != nil {
		return Built{}, fmt.Errorf("census %s: %w", name, err)
	}
	download := f.Bytes
	if f.Cached {
		download = en.Size
		if en.Ecosystem == census.NPM {
			download = lf.DiffSize
		}
	}
	ann := map[string]string{
		store.AnnExperiment: Census, store.AnnLabel: LabelBenign, store.AnnSeed: strconv.Itoa(census.Seed),
		annCensusEcosystem: en.Ecosystem, annCensusLayerSize: strconv.FormatInt(lf.Size, 10),
		annCensusDiffSize: strconv.FormatInt(lf.DiffSize, 10), annCensusDownload: strconv.FormatInt(download, 10),
		annCensusAssembleMS: strconv.FormatInt(time.Since(t0).Milliseconds(), 10),
	}
	// The inputs key last (Put writes all annotations at once).
	ann[store.AnnInputs] = key
	return e.putCensus(b, img, ann)
}

// putCensus stores img as b.Name with the annotations and returns b with
// the stored image.
func (e *Env) putCensus(b Built, img v1.Image, ann map[string]string) (Built, error) {
	e.imageMu.Lock()
	desc, err := e.Store.Put(img, b.Name, ann)
	e.imageMu.Unlock()
	if err != nil {
		return Built{}, err
	}
	if b.Image, err = e.Store.Image(desc.Digest); err != nil {
		return Built{}, err
	}
	b.Descriptor = desc
	return b, nil
}

// censusCanaries makes (or finds in the store) the positive controls of
// the ecosystems the run has a base for: each assembled on that base the
// way the ecosystem's subjects are, labelled malicious in its layer.
func (e *Env) censusCanaries(bases map[string]v1.Image) ([]Built, error) {
	var out []Built
	for _, c := range census.Canaries {
		baseImg, ok := bases[c.Ecosystem]
		if !ok {
			continue
		}
		b, err := e.assembleCanary(c, baseImg)
		if err != nil {
			return nil, fmt.Errorf("census canary %s: %w", c.Name, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func (e *Env) assembleCanary(c census.Canary, baseImg v1.Image) (Built, error) {
	name := census.CanaryImageName(c)
	lf, createdBy, workdir, err := census.WriteCanaryLayer(filepath.Join(e.tmp, "canary-"+c.Name+".tar.gz"), filepath.Join(e.tmp, "canary-work"), c, DefaultEpoch)
	if err != nil {
		return Built{}, err
	}
	defer os.Remove(lf.Path)
	img, err := census.Assemble(baseImg, lf, createdBy, DefaultEpoch, workdir)
	if err != nil {
		return Built{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return Built{}, err
	}
	top := len(layers) - 1
	b := Built{Name: name, Case: "canary", Seed: census.Seed, Family: c.Ecosystem,
		Truth: corpus.Truth{MaliciousLayers: []int{top}, Tags: map[int]string{top: "canary"}}}
	return e.putCensus(b, img, map[string]string{store.AnnExperiment: Census, store.AnnLabel: LabelMalicious, store.AnnSeed: strconv.Itoa(census.Seed)})
}

// blobBytes sums the distinct blobs (manifests, configs, layers) of the
// images.
func blobBytes(bs []Built) (int64, error) {
	seen := map[v1.Hash]bool{}
	var n int64
	add := func(h v1.Hash, size int64) {
		if !seen[h] {
			seen[h] = true
			n += size
		}
	}
	for _, b := range bs {
		add(b.Descriptor.Digest, b.Descriptor.Size)
		m, err := b.Image.Manifest()
		if err != nil {
			return 0, err
		}
		add(m.Config.Digest, m.Config.Size)
		for _, l := range m.Layers {
			add(l.Digest, l.Size)
		}
	}
	return n, nil
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func (censusExperiment) Report(dir string, s Slice) (*Report, error) {
	return CensusReportDir(dir, s)
}

// ecosystemOf is the census ecosystem of a record; records of the census
// before issue #18 carry none and are the ordinary stratum.
func ecosystemOf(r Record) string {
	if r.Family == "" || !slices.Contains(census.Ecosystems, r.Family) {
		return census.Ordinary
	}
	return r.Family
}

// censusDetectors is the usual set with the inventory baselines opt-in:
// their SBOM costs about 1 s per image even with decompressed layers
// cached, an hour more on the whole census, so they scan the census only
// when --detectors names them (inventory,inventory+clamav).
func censusDetectors(s *DetectorSet) []detectors.Detector {
	var out []detectors.Detector
	for _, d := range allDetectors(s) {
		if _, opt := d.(optIn); !opt && (d.Name() == inventory.Name || d.Name() == inventory.ClamAVName) {
			d = optInDetector{d}
		}
		out = append(out, d)
	}
	return out
}
