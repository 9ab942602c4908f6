package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/sandbox"
	"github.com/strata-sec/strata/internal/table"
)

// Schema versions bench.json.
const Schema = "strata.bench/v1"

// Measurement names, in table order.
const (
	measureFloor    = "floor"        // decompress + tar walk, visitor drains content, GOMAXPROCS=1
	measureFloorAll = "floor-allcpu" // the same on every core (only on a multi-core machine)
	measureCold     = "cold"         // hierarchical, fresh cache
	measureCold1CPU = "cold-1cpu"    // the same with GOMAXPROCS=1 (only on a multi-core machine)
	measureWarm     = "warm"         // hierarchical, same detector again
	measureMulti    = "multiengine"  // clamscan + yara through multiengine, fresh cache
	measureClamscan = "clamscan"     // clamscan's own wall time within multiengine
	measureYara     = "yara"         // yara's own wall time within multiengine
)

const legend = `floor: decompress + tar walk of every layer, visitor drains content, no cache, on one core (GOMAXPROCS=1);
floor-allcpu: the same on every core (the layer stream decompresses ahead of the walk on a goroutine of its own).
cold: hierarchical scan as strata scan runs it (layers analysed in parallel on GOMAXPROCS cores, machine.md),
fresh in-memory layer cache; cold-1cpu: the same with GOMAXPROCS=1. warm: the same detector again.
multiengine: clamscan + yara over every layer's files (signatures learned from the last layer,
or the topmost layer below it that yields some; fresh cache); clamscan, yara: each engine's own wall time (they run concurrently per layer).
registry-fetch: manifest, config and every layer blob fetched from a loopback registry with go-containerregistry,
N layers at once; registry-scan: strata scan of that reference without cache, same N (--registry);
registry-fetch-link, registry-scan-link: the same over a link of --registry-link MB/s shared by the connections.
dynamic-cold, dynamic-warm: one sandbox run of the start command (strata scan --dynamic) with none of the image's layers stored
(the first run into an empty store, later ones after the previous round's layers were evicted, as in a store in use),
then with the layers stored; setup, run and teardown in bench.json and the verdict line (--dynamic).
MB: uncompressed layer bytes the walker read. vs floor: floor time / time (= throughput ratio);
for warm: warm time as a percentage of cold time.
`

// learnDepth bounds how many layers, from the top, are tried for
// multiengine signatures.
const learnDepth = 4

// Targets from the issue.
const (
	coldTarget = 0.50 // cold scan throughput >= 50% of the floor's
	warmTarget = 0.05 // warm scan time <= 5% of the cold scan's
	// With layers analysed in parallel, on 2 cores or more: a multi-layer
	// image's cold scan at least 1.5x the single-core floor's throughput,
	// a single-layer image's at least 70% of it.
	parallelMultiTarget  = 1.5
	parallelSingleTarget = 0.70
)

// Measurement is one timed quantity of one image, every run kept.
type Measurement struct {
	Name     string  `json:"name"`
	RunsNS   []int64 `json:"runs_ns"`
	MedianNS int64   `json:"median_ns"`
	// Extra holds per-run counters (cache stats, engine runs).
	Extra []map[string]int64 `json:"extra,omitempty"`
}

// Image is one benched image (one platform of a reference).
type Image struct {
	Ref          string        `json:"ref"`
	Target       string        `json:"target"`
	Layers       int           `json:"layers"`
	Bytes        int64         `json:"uncompressed_bytes"`
	Measurements []Measurement `json:"measurements"`
	EnginesNote  string        `json:"engines_note,omitempty"`
}

// Report is bench.json (schema Schema).
type Report struct {
	Schema  string            `json:"schema"`
	Count   int               `json:"count"`
	Machine map[string]string `json:"machine"`
	Images  []Image           `json:"images"`
	Builds  *Builds           `json:"builds,omitempty"`
}

// Config says what to bench.
type Config struct {
	// Refs are the images to time (imageref forms: DIR:NAME, FILE, registry).
	Refs []string
	// Count is the repetitions of each measurement; the median is reported.
	Count int
	// Out, if set, receives bench.md, bench.json and machine.md.
	Out string
	// Engines also times clamscan and yara through multiengine.
	Engines bool
	// Platform keeps one platform of a multi-platform image.
	Platform string
	// Builds also times experiment 2's BuildKit builds, cold and warm.
	Builds bool
	// Registry also pushes each image to a loopback registry and times a
	// fetch of its blobs against a cold registry scan (registry.go), and
	// again over a link of RegistryLink bytes a second (0: not).
	Registry     bool
	RegistryLink float64
	// Flatten also benches, for the first image, its final filesystem as
	// a single gzip layer (flatten.go): the single-big-layer shape that
	// parallel layers cannot help.
	Flatten bool
	// Dynamic also times the behaviour stage's sandbox run (dynamic.go)
	// with time limit DynamicTimeout (0: sandbox.DefaultTimeout).
	Dynamic        bool
	DynamicTimeout time.Duration
	// Stdout gets the tables and verdicts, Stderr progress lines.
	Stdout, Stderr io.Writer
}

// Run times every image of cfg.Refs (and the builds if asked), prints the
// tables and PASS/FAIL verdicts against the targets, and writes the
// files to cfg.Out.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if len(cfg.Refs) == 0 && !cfg.Builds {
		return Report{}, fmt.Errorf("nothing to bench: name an image (e.g. ~/.cache/strata/store:exp1/case-111) or ask for the builds")
	}
	if cfg.Count < 1 {
		return Report{}, fmt.Errorf("count %d: want at least 1 repetition", cfg.Count)
	}
	stdout, stderr := cfg.Stdout, cfg.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	rep := Report{Schema: Schema, Count: cfg.Count, Machine: machine(ctx), Images: []Image{}}
	for i, ref := range cfg.Refs {
		targets, err := imageref.Open(ctx, ref, imageref.Options{Platform: cfg.Platform})
		if err != nil {
			return rep, err
		}
		if i == 0 && cfg.Flatten && len(targets) > 0 {
			flat, cleanup, err := flattened(targets[0])
			if err != nil {
				return rep, err
			}
			defer cleanup()
			targets = append(targets, flat)
		}
		for _, t := range targets {
			fmt.Fprintf(stderr, "bench: %s\n", t.Name)
			bi, err := benchImage(ctx, ref, t, cfg.Count, cfg.Engines, stderr)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", t.Name, err)
			}
			var links []float64 // 0: loopback at full speed
			if cfg.Registry {
				links = append(links, 0)
				if cfg.RegistryLink > 0 {
					links = append(links, cfg.RegistryLink)
				}
			}
			for _, link := range links {
				ms, err := benchRegistry(ctx, t.Image, cfg.Count, link)
				if err != nil {
					return rep, fmt.Errorf("%s: %w", t.Name, err)
				}
				for _, m := range ms {
					m.MedianNS = median(m.RunsNS)
					bi.Measurements = append(bi.Measurements, m)
				}
			}
			if cfg.Dynamic {
				timeout := cfg.DynamicTimeout
				if timeout <= 0 {
					timeout = sandbox.DefaultTimeout
				}
				ms, err := benchDynamic(ctx, t.Image, cfg.Count, timeout)
				if err != nil {
					return rep, fmt.Errorf("%s: %w", t.Name, err)
				}
				bi.Measurements = append(bi.Measurements, ms...)
			}
			rep.Images = append(rep.Images, bi)
		}
	}
	if cfg.Builds {
		var err error
		if rep.Builds, err = runBuilds(ctx, stderr); err != nil {
			return rep, err
		}
	}
	return rep, write(rep, cfg.Out, stdout)
}

// write prints rep's tables and verdicts to stdout and, if out is set,
// writes bench.md, bench.json and machine.md there.
func write(rep Report, out string, stdout io.Writer) error {
	tab := imagesTable(rep)
	if err := tab.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprint(stdout, legend)
	vs := append(append(verdicts(rep), registryVerdicts(rep)...), dynamicVerdicts(rep)...)
	var btab *table.Table
	if rep.Builds != nil {
		btab = buildsTable(rep.Builds)
		if err := btab.WriteText(stdout); err != nil {
			return err
		}
		vs = append(vs, buildVerdicts(rep.Builds)...)
	}
	for _, v := range vs {
		fmt.Fprintln(stdout, v)
	}
	if out == "" {
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# strata bench\n\nMedian of %d runs per measurement; machine in [machine.md](machine.md), every run in bench.json.\n\n%s\n", rep.Count, legend)
	if err := tab.WriteMarkdown(&md); err != nil {
		return err
	}
	md.WriteString("\n")
	if btab != nil {
		md.WriteString("Experiment 2's builds (`--build-only`) in a private cache: cold from empty (debootstrap, packages, web-app image, every BuildKit build), then warm on the same cache.\n\n")
		if err := btab.WriteMarkdown(&md); err != nil {
			return err
		}
		md.WriteString("\n")
	}
	for _, v := range vs {
		md.WriteString("- " + v + "\n")
	}
	if err := os.WriteFile(filepath.Join(out, "bench.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "bench.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "machine.md"), []byte(machineMarkdown(rep.Machine)), 0o644)
}
