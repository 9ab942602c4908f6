package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/baselines/multiengine"
	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
	"github.com/strata-sec/strata/internal/table"
	"github.com/strata-sec/strata/mutations"
)

func init() {
	register("bench", command{
		summary: "time the walker floor, the hierarchical detector (cold and warm cache) and clamscan/yara on the same images; --builds: experiment 2's builds, cold and warm",
		run:     runBench,
	})
}

// BenchSchema versions bench.json.
const BenchSchema = "strata.bench/v1"

// Measurement names, in table order.
const (
	benchFloor    = "floor"       // decompress + tar walk, visitor drains content
	benchCold     = "cold"        // hierarchical, fresh cache
	benchWarm     = "warm"        // hierarchical, same detector again
	benchMulti    = "multiengine" // clamscan + yara through multiengine, fresh cache
	benchClamscan = "clamscan"    // clamscan's own wall time within multiengine
	benchYara     = "yara"        // yara's own wall time within multiengine
)

const benchLegend = `floor: decompress + tar walk of every layer, visitor drains content, no cache.
cold: hierarchical scan, fresh in-memory layer cache. warm: the same detector again.
multiengine: clamscan + yara over every layer's files (signatures learned from the last layer,
or the topmost layer below it that yields some; fresh cache); clamscan, yara: each engine's own wall time (they run concurrently per layer).
MB: uncompressed layer bytes the walker read. vs floor: floor time / time (= throughput ratio);
for warm: warm time as a percentage of cold time.
`

// benchLearnDepth bounds how many layers, from the top, are tried for
// multiengine signatures.
const benchLearnDepth = 4

// Targets from the issue.
const (
	benchColdTarget = 0.50 // cold scan throughput >= 50% of the floor's
	benchWarmTarget = 0.05 // warm scan time <= 5% of the cold scan's
)

type benchMeasurement struct {
	Name     string  `json:"name"`
	RunsNS   []int64 `json:"runs_ns"`
	MedianNS int64   `json:"median_ns"`
	// Extra holds per-run counters (cache stats, engine runs).
	Extra []map[string]int64 `json:"extra,omitempty"`
}

type benchImage struct {
	Ref          string             `json:"ref"`
	Target       string             `json:"target"`
	Layers       int                `json:"layers"`
	Bytes        int64              `json:"uncompressed_bytes"`
	Measurements []benchMeasurement `json:"measurements"`
	EnginesNote  string             `json:"engines_note,omitempty"`
}

type benchReport struct {
	Schema  string            `json:"schema"`
	Count   int               `json:"count"`
	Machine map[string]string `json:"machine"`
	Images  []benchImage      `json:"images"`
	Builds  *benchBuilds      `json:"builds,omitempty"`
}

// benchBuilds times experiment 2's builds (--build-only) in a private cache:
// cold from an empty cache (debootstrap, packages, web-app image and every
// BuildKit build), then warm on the same cache (everything found in the
// store by its inputs).
type benchBuilds struct {
	Images int   `json:"images"`
	ColdNS int64 `json:"cold_ns"`
	WarmNS int64 `json:"warm_ns"`
}

const (
	benchBuildColdTarget = 40.0            // images per minute, cold
	benchBuildWarmTarget = 2 * time.Minute // warm experiment 2
)

func runBenchBuilds(ctx context.Context, stderr io.Writer) (*benchBuilds, error) {
	dir, err := os.MkdirTemp("", "strata-bench-builds-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := experiments.Config{
		CacheDir: dir, ResultsDir: filepath.Join(dir, "results"), Seed: 1,
		// Its own port, so a bench can run beside an experiment.
		ServeAddr: "127.0.0.1:18476", BuildOnly: true, Log: io.Discard,
	}
	b := &benchBuilds{Images: len(drupal.Cases()) * (1 + len(mutations.OfKind(mutations.LayerKinds...))*experiments.SamplesPerType)}
	fmt.Fprintf(stderr, "bench: building experiment 2 from an empty cache (%d images)\n", b.Images)
	if b.ColdNS, err = timeIt(func() error { return experiments.RunExp2(ctx, cfg) }); err != nil {
		return nil, fmt.Errorf("cold build: %w", err)
	}
	fmt.Fprintf(stderr, "bench: building experiment 2 again on the same cache\n")
	if b.WarmNS, err = timeIt(func() error { return experiments.RunExp2(ctx, cfg) }); err != nil {
		return nil, fmt.Errorf("warm build: %w", err)
	}
	return b, nil
}

func (b *benchBuilds) perMinute(ns int64) float64 {
	return float64(b.Images) / (float64(ns) / float64(time.Minute))
}

func benchBuildsTable(b *benchBuilds) *table.Table {
	t := table.New(
		table.Column{Header: "builds", Key: "builds"},
		table.Column{Header: "images", Key: "images", Align: table.Right},
		table.Column{Header: "wall time", Key: "wall_time", Align: table.Right},
		table.Column{Header: "images/min", Key: "images_per_min", Align: table.Right},
	)
	t.Append("exp2 cold (empty cache)", fmt.Sprint(b.Images), fmtDur(b.ColdNS), fmt.Sprintf("%.0f", b.perMinute(b.ColdNS)))
	t.Append("exp2 warm (all in store)", fmt.Sprint(b.Images), fmtDur(b.WarmNS), fmt.Sprintf("%.0f", b.perMinute(b.WarmNS)))
	return t
}

func benchBuildVerdicts(b *benchBuilds) []string {
	pass := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	cold := b.perMinute(b.ColdNS)
	return []string{
		fmt.Sprintf("%s exp2 cold build: %.0f images/min including preparation (target >= %.0f)", pass(cold >= benchBuildColdTarget), cold, benchBuildColdTarget),
		fmt.Sprintf("%s exp2 with every image in the store: %s (target < %s)", pass(time.Duration(b.WarmNS) < benchBuildWarmTarget), fmtDur(b.WarmNS), benchBuildWarmTarget),
	}
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "REF...", stderr)
	count := fs.Int("count", 3, "repetitions of each measurement; the median is reported")
	out := fs.String("out", "", "write bench.md, bench.json and machine.md to this directory")
	engines := fs.Bool("engines", true, "also time clamscan and yara (multiengine, signatures learned from the image's last layer)")
	platform := fs.String("platform", "", "bench only this platform of a multi-platform image: os/arch[/variant]")
	builds := fs.Bool("builds", false, "also time experiment 2's 408 BuildKit builds, cold (empty private cache) and warm (a few minutes)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 && !*builds {
		fs.Usage()
		return fmt.Errorf("name at least one image, e.g. strata bench ~/.cache/strata/store:exp1/case-111")
	}
	if *count < 1 {
		return fmt.Errorf("--count must be at least 1")
	}

	rep := benchReport{Schema: BenchSchema, Count: *count, Machine: benchMachine(ctx), Images: []benchImage{}}
	for _, ref := range pos {
		targets, err := imageref.Open(ctx, ref, imageref.Options{Platform: *platform})
		if err != nil {
			return err
		}
		for _, t := range targets {
			fmt.Fprintf(stderr, "bench: %s\n", t.Name)
			bi, err := benchOne(ctx, ref, t, *count, *engines, stderr)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			rep.Images = append(rep.Images, bi)
		}
	}

	if *builds {
		if rep.Builds, err = runBenchBuilds(ctx, stderr); err != nil {
			return err
		}
	}

	tab := benchTable(rep)
	if err := tab.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprint(stdout, benchLegend)
	verdicts := benchVerdicts(rep)
	var btab *table.Table
	if rep.Builds != nil {
		btab = benchBuildsTable(rep.Builds)
		if err := btab.WriteText(stdout); err != nil {
			return err
		}
		verdicts = append(verdicts, benchBuildVerdicts(rep.Builds)...)
	}
	for _, v := range verdicts {
		fmt.Fprintln(stdout, v)
	}
	if *out == "" {
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# strata bench\n\nMedian of %d runs per measurement; machine in [machine.md](machine.md), every run in bench.json.\n\n%s\n", *count, benchLegend)
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
	for _, v := range verdicts {
		md.WriteString("- " + v + "\n")
	}
	if err := os.WriteFile(filepath.Join(*out, "bench.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "bench.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*out, "machine.md"), []byte(benchMachineMarkdown(rep.Machine)), 0o644)
}

// timeIt runs f after a GC, so one measurement's garbage is not collected
// during the next.
func timeIt(f func() error) (int64, error) {
	runtime.GC()
	start := time.Now()
	err := f()
	return time.Since(start).Nanoseconds(), err
}

func benchOne(ctx context.Context, ref string, t imageref.Target, count int, engines bool, stderr io.Writer) (benchImage, error) {
	img := t.Image
	imgLayers, err := img.Layers()
	if err != nil {
		return benchImage{}, err
	}
	bi := benchImage{Ref: ref, Target: t.Name, Layers: len(imgLayers)}
	drain := func(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}

	floor := benchMeasurement{Name: benchFloor}
	cold := benchMeasurement{Name: benchCold}
	warm := benchMeasurement{Name: benchWarm}
	for range count {
		var res *layers.Result
		ns, err := timeIt(func() (err error) {
			res, err = layers.Walk(ctx, img, drain)
			return err
		})
		if err != nil {
			return bi, fmt.Errorf("floor walk: %w", err)
		}
		bi.Bytes = res.Bytes
		floor.RunsNS = append(floor.RunsNS, ns)

		d := hierarchical.New(hierarchical.WithLayerCache(layercache.New()))
		ns, err = timeIt(func() error { _, err := d.Scan(ctx, img); return err })
		if err != nil {
			return bi, fmt.Errorf("cold scan: %w", err)
		}
		st := d.Cache().Stats()
		cold.RunsNS = append(cold.RunsNS, ns)
		cold.Extra = append(cold.Extra, map[string]int64{"cache_hits": st.Hits, "cache_misses": st.Misses, "cache_stores": st.Stores})

		ns, err = timeIt(func() error { _, err := d.Scan(ctx, img); return err })
		if err != nil {
			return bi, fmt.Errorf("warm scan: %w", err)
		}
		st2 := d.Cache().Stats()
		if st2.Misses != st.Misses {
			fmt.Fprintf(stderr, "bench: %s: warm scan missed the cache (%d misses; layers not verified or over the cache bounds)\n", t.Name, st2.Misses-st.Misses)
		}
		warm.RunsNS = append(warm.RunsNS, ns)
		warm.Extra = append(warm.Extra, map[string]int64{"cache_hits": st2.Hits - st.Hits, "cache_misses": st2.Misses - st.Misses})
	}
	bi.Measurements = append(bi.Measurements, floor, cold, warm)

	if engines {
		ms, note, err := benchEngines(ctx, img, len(imgLayers), count)
		if err != nil {
			return bi, err
		}
		bi.EnginesNote = note
		if note != "" {
			fmt.Fprintf(stderr, "bench: %s: engines not timed: %s\n", t.Name, note)
		}
		bi.Measurements = append(bi.Measurements, ms...)
	}
	for i := range bi.Measurements {
		bi.Measurements[i].MedianNS = median(bi.Measurements[i].RunsNS)
	}
	return bi, nil
}

// benchEngines times multiengine's Scan with a fresh detector (empty
// in-memory cache, no disk cache) per run. The engines are called through
// wrapper scripts that log each invocation's wall time, so clamscan's and
// yara's own times are reported next to the detector's total (they run
// concurrently per layer).
func benchEngines(ctx context.Context, img v1.Image, nLayers, count int) ([]benchMeasurement, string, error) {
	if nLayers == 0 {
		return nil, "image has no layers", nil
	}
	// Signatures from the last layer; if it yields none (a dummy layer on
	// top), from the topmost of the next layers that does, so clamscan
	// really runs (multiengine skips it without signatures).
	var sigs multiengine.Signatures
	learned := -1
	for l := nLayers - 1; l >= 0 && l >= nLayers-benchLearnDepth; l-- {
		s, err := multiengine.Learn(img, []int{l})
		if err != nil {
			return nil, "", fmt.Errorf("multiengine: %w", err)
		}
		if len(s.Files) > 0 {
			sigs, learned = s, l
			break
		}
	}
	if learned < 0 {
		return nil, fmt.Sprintf("no signatures learned from the top %d layers", benchLearnDepth), nil
	}
	tmp, err := os.MkdirTemp("", "strata-bench-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmp)
	clam, err := benchWrapper(tmp, "clamscan")
	if err != nil {
		return nil, "", err
	}
	yara, err := benchWrapper(tmp, "yara")
	if err != nil {
		return nil, "", err
	}
	total := benchMeasurement{Name: benchMulti}
	cm := benchMeasurement{Name: benchClamscan}
	ym := benchMeasurement{Name: benchYara}
	for range count {
		d, err := multiengine.New(sigs, multiengine.WithEngines(clam, yara), multiengine.WithTempDir(tmp))
		if err != nil {
			return nil, "", err
		}
		os.Remove(clam + ".log") // New ran --version
		os.Remove(yara + ".log")
		ns, err := timeIt(func() error { _, err := d.Scan(ctx, img); return err })
		st := d.Stats()
		d.Close()
		if err != nil {
			return nil, "", fmt.Errorf("multiengine scan: %w", err)
		}
		total.RunsNS = append(total.RunsNS, ns)
		total.Extra = append(total.Extra, map[string]int64{"learned_from_layer": int64(learned), "signed_files": int64(len(sigs.Files)), "layers_scanned": st.LayersScanned, "clamscan_runs": st.ClamscanRuns, "yara_runs": st.YaraRuns})
		cns, cn := readWrapperLog(clam + ".log")
		yns, yn := readWrapperLog(yara + ".log")
		cm.RunsNS = append(cm.RunsNS, cns)
		cm.Extra = append(cm.Extra, map[string]int64{"runs": cn})
		ym.RunsNS = append(ym.RunsNS, yns)
		ym.Extra = append(ym.Extra, map[string]int64{"runs": yn})
	}
	return []benchMeasurement{total, cm, ym}, "", nil
}

// benchWrapper writes DIR/NAME, a script running the real NAME and
// appending its wall time in nanoseconds to DIR/NAME.log.
func benchWrapper(dir, name string) (string, error) {
	real, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: run make setup (%v)", name, err)
	}
	p := filepath.Join(dir, name)
	script := fmt.Sprintf("#!/bin/sh\ns=$(date +%%s%%N)\n%s \"$@\"\nrc=$?\necho $(( $(date +%%s%%N) - s )) >> %s\nexit $rc\n",
		shellQuote(real), shellQuote(p+".log"))
	return p, os.WriteFile(p, []byte(script), 0o755)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func readWrapperLog(p string) (ns, runs int64) {
	b, _ := os.ReadFile(p)
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.ParseInt(f, 10, 64); err == nil {
			ns += n
			runs++
		}
	}
	return ns, runs
}

func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (bi benchImage) median(name string) (int64, bool) {
	for _, m := range bi.Measurements {
		if m.Name == name {
			return m.MedianNS, true
		}
	}
	return 0, false
}

func benchTable(rep benchReport) *table.Table {
	t := table.New(
		table.Column{Header: "image"},
		table.Column{Header: "measurement"},
		table.Column{Header: "wall time", Align: table.Right},
		table.Column{Header: "MB", Align: table.Right},
		table.Column{Header: "MB/s", Align: table.Right},
		table.Column{Header: "vs floor", Align: table.Right},
	)
	for _, bi := range rep.Images {
		mb := float64(bi.Bytes) / 1e6
		floorNS, _ := bi.median(benchFloor)
		coldNS, _ := bi.median(benchCold)
		for _, m := range bi.Measurements {
			sec := float64(m.MedianNS) / 1e9
			tput := "-"
			if sec > 0 {
				tput = fmt.Sprintf("%.1f", mb/sec)
			}
			var ratio string
			switch {
			case m.Name == benchFloor:
				ratio = "1.00"
			case m.Name == benchWarm && coldNS > 0:
				ratio = fmt.Sprintf("%.1f%% of cold", 100*float64(m.MedianNS)/float64(coldNS))
			case m.MedianNS > 0:
				// throughput ratio = floor time / this time
				ratio = fmt.Sprintf("%.2f", float64(floorNS)/float64(m.MedianNS))
			default:
				ratio = "-"
			}
			t.Append(benchLabel(bi.Target), m.Name, fmtDur(m.MedianNS), fmt.Sprintf("%.2f", mb), tput, ratio)
		}
		if bi.EnginesNote != "" {
			t.Append(benchLabel(bi.Target), "clamscan/yara", "-", fmt.Sprintf("%.2f", mb), "-", "not timed: "+bi.EnginesNote)
		}
	}
	return t
}

// benchLabel shortens "DIR:NAME" to NAME for the table.
func benchLabel(target string) string {
	if i := strings.LastIndex(target, ":"); i >= 0 && strings.Contains(target[:i], "/") {
		return target[i+1:]
	}
	return target
}

func fmtDur(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	}
}

// benchVerdicts gives one line per image and target from the issue.
func benchVerdicts(rep benchReport) []string {
	pass := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	var out []string
	for _, bi := range rep.Images {
		floorNS, _ := bi.median(benchFloor)
		coldNS, _ := bi.median(benchCold)
		warmNS, _ := bi.median(benchWarm)
		if floorNS <= 0 || coldNS <= 0 {
			continue
		}
		cold := float64(floorNS) / float64(coldNS)
		warm := float64(warmNS) / float64(coldNS)
		out = append(out,
			fmt.Sprintf("%s %s: cold scan throughput %.0f%% of floor (target >= %.0f%%)", pass(cold >= benchColdTarget), benchLabel(bi.Target), 100*cold, 100*benchColdTarget),
			fmt.Sprintf("%s %s: warm scan %.1f%% of cold time (target <= %.0f%%)", pass(warm <= benchWarmTarget), benchLabel(bi.Target), 100*warm, 100*benchWarmTarget))
	}
	return out
}

func benchMachine(ctx context.Context) map[string]string {
	m := map[string]string{
		"cpus":       strconv.Itoa(runtime.NumCPU()),
		"go":         runtime.Version(),
		"goos_arch":  runtime.GOOS + "/" + runtime.GOARCH,
		"gomaxprocs": strconv.Itoa(runtime.GOMAXPROCS(0)),
	}
	cmd := func(name string, args ...string) string {
		out, err := exec.CommandContext(ctx, name, args...).Output()
		if err != nil {
			return "unavailable (" + err.Error() + ")"
		}
		s := strings.TrimSpace(string(out))
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		return s
	}
	m["nproc"] = cmd("nproc")
	m["kernel"] = cmd("uname", "-r")
	m["clamscan"] = cmd("clamscan", "--version")
	m["yara"] = cmd("yara", "--version")
	m["cpu_model"] = procField("/proc/cpuinfo", "model name")
	m["mem_total"] = procField("/proc/meminfo", "MemTotal")
	return m
}

func procField(file, key string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return "unavailable"
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unavailable"
}

func benchMachineMarkdown(m map[string]string) string {
	rows := []struct{ label, key string }{
		{"CPU model", "cpu_model"}, {"CPUs (nproc)", "nproc"}, {"CPUs (runtime.NumCPU)", "cpus"},
		{"GOMAXPROCS", "gomaxprocs"}, {"Memory (MemTotal)", "mem_total"}, {"Kernel (uname -r)", "kernel"},
		{"Go", "go"}, {"OS/arch", "goos_arch"}, {"clamscan --version", "clamscan"}, {"yara --version", "yara"},
	}
	t := table.New(table.Column{Header: "item"}, table.Column{Header: "value"})
	for _, r := range rows {
		t.Append(r.label, m[r.key])
	}
	var b strings.Builder
	b.WriteString("# Machine\n\n")
	_ = t.WriteMarkdown(&b)
	return b.String()
}
