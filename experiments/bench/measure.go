package bench

import (
	"context"
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
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

// timeIt runs f after a GC, so one measurement's garbage is not collected
// during the next.
func timeIt(f func() error) (int64, error) {
	runtime.GC()
	start := time.Now()
	err := f()
	return time.Since(start).Nanoseconds(), err
}

func benchImage(ctx context.Context, ref string, t imageref.Target, count int, engines bool, stderr io.Writer) (Image, error) {
	img := t.Image
	imgLayers, err := img.Layers()
	if err != nil {
		return Image{}, err
	}
	bi := Image{Ref: ref, Target: t.Name, Layers: len(imgLayers)}
	drain := func(_ *layers.LayerInfo, _ *layers.Entry, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}

	floor := Measurement{Name: measureFloor}
	floorAll := Measurement{Name: measureFloorAll}
	cold := Measurement{Name: measureCold}
	warm := Measurement{Name: measureWarm}
	procs := runtime.GOMAXPROCS(0)
	walkFloor := func(m *Measurement) error {
		var res *layers.Result
		ns, err := timeIt(func() (err error) { res, err = layers.Walk(ctx, img, drain); return err })
		if err != nil {
			return fmt.Errorf("floor walk: %w", err)
		}
		bi.Bytes = res.Bytes
		m.RunsNS = append(m.RunsNS, ns)
		return nil
	}
	for range count {
		// The floor on one core, then (on a multi-core machine) on every
		// core, where the layer stream decompresses ahead of the walk on
		// a goroutine of its own.
		prev := runtime.GOMAXPROCS(1)
		err := walkFloor(&floor)
		runtime.GOMAXPROCS(prev)
		if err == nil && procs > 1 {
			err = walkFloor(&floorAll)
		}
		if err != nil {
			return bi, err
		}

		d := scanLikeCLI(t)
		ns, err := timeIt(func() error { _, err := d.Scan(ctx, img); return err })
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
	bi.Measurements = append(bi.Measurements, floor)
	if procs > 1 {
		bi.Measurements = append(bi.Measurements, floorAll)
	}
	bi.Measurements = append(bi.Measurements, cold, warm)
	if procs > 1 {
		c1, err := coldOneCore(ctx, t, count)
		if err != nil {
			return bi, err
		}
		bi.Measurements = append(bi.Measurements, c1)
	}

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

// scanLikeCLI is the detector strata scan uses on t: a fresh layer cache
// and layers analysed on as many cores as GOMAXPROCS allows now (a
// registry's a few at once even on one core).
func scanLikeCLI(t imageref.Target) *hierarchical.Detector {
	return hierarchical.New(hierarchical.WithLayerCache(layercache.New()),
		hierarchical.WithWalkOptions(layers.WithParallelLayers(imageref.LayersAtOnce([]imageref.Target{t}))))
}

// coldOneCore is the cold scan with GOMAXPROCS=1: what analysing layers in
// parallel gains is the difference to the cold scan on every core.
func coldOneCore(ctx context.Context, t imageref.Target, count int) (Measurement, error) {
	c1 := Measurement{Name: measureCold1CPU}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range count {
		d := scanLikeCLI(t)
		ns, err := timeIt(func() error { _, err := d.Scan(ctx, t.Image); return err })
		if err != nil {
			return c1, fmt.Errorf("cold scan on one core: %w", err)
		}
		c1.RunsNS = append(c1.RunsNS, ns)
		c1.Extra = append(c1.Extra, map[string]int64{"gomaxprocs": 1})
	}
	return c1, nil
}

// benchEngines times multiengine's Scan with a fresh detector (empty
// in-memory cache, no disk cache) per run. The engines are called through
// wrapper scripts that log each invocation's wall time, so clamscan's and
// yara's own times are reported next to the detector's total (they run
// concurrently per layer).
func benchEngines(ctx context.Context, img v1.Image, nLayers, count int) ([]Measurement, string, error) {
	if nLayers == 0 {
		return nil, "image has no layers", nil
	}
	// Signatures from the last layer; if it yields none (a dummy layer on
	// top), from the topmost of the next layers that does, so clamscan
	// really runs (multiengine skips it without signatures).
	var sigs multiengine.Signatures
	learned := -1
	for l := nLayers - 1; l >= 0 && l >= nLayers-learnDepth; l-- {
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
		return nil, fmt.Sprintf("no signatures learned from the top %d layers", learnDepth), nil
	}
	tmp, err := os.MkdirTemp("", "strata-bench-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmp)
	clam, err := engineWrapper(tmp, "clamscan")
	if err != nil {
		return nil, "", err
	}
	yara, err := engineWrapper(tmp, "yara")
	if err != nil {
		return nil, "", err
	}
	total := Measurement{Name: measureMulti}
	cm := Measurement{Name: measureClamscan}
	ym := Measurement{Name: measureYara}
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
	return []Measurement{total, cm, ym}, "", nil
}

// engineWrapper writes DIR/NAME, a script running the real NAME and
// appending its wall time in nanoseconds to DIR/NAME.log.
func engineWrapper(dir, name string) (string, error) {
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

func (bi Image) median(name string) (int64, bool) {
	for _, m := range bi.Measurements {
		if m.Name == name {
			return m.MedianNS, true
		}
	}
	return 0, false
}
