package experiments

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/sandbox"
)

// RunResult says where a run went and what it recorded.
type RunResult struct {
	// Dir holds the run's record files, learned signatures, manifest and
	// report.
	Dir      string
	Manifest *Manifest
	Report   *Report
}

// Run runs the experiment called name through the one lifecycle: prepare
// the environment -> build the experiment's images (Plan) -> learn the
// signature baselines from the first sighting -> scan every image with
// every detector of the slice -> record -> report. Without an explicit
// Config.ResultsDir the run writes a result set of its own under
// Config.RunsDir and the committed reference is left alone.
func Run(ctx context.Context, name string, cfg Config) (*RunResult, error) {
	exp, err := Get(name)
	if err != nil {
		return nil, err
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := cfg.Slice.check(exp); err != nil {
		return nil, err
	}
	if cfg.ResultsDir != "" && !cfg.Slice.IsZero() {
		return nil, fmt.Errorf("%s: a slice (%s) never writes into a results dir, whose files are whole-experiment files: drop --results to write a run of its own under %s", name, cfg.Slice, cfg.RunsDir)
	}
	// A sandbox that cannot run here would fail every image's run, and the
	// combined detector would record each as not run: say so before any
	// build, as strata scan --dynamic does.
	if cfg.Slice.runsSandbox(cfg.Dynamic) && !cfg.BuildOnly {
		if err := sandbox.Check(); err != nil {
			return nil, fmt.Errorf("%s: the behaviour sandbox cannot run here: %w", name, err)
		}
	}
	started := time.Now().UTC()
	env, err := Prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer env.Close()
	cfg = env.Config
	first, err := env.Case(ctx, FirstSighting)
	if err != nil {
		return nil, err
	}
	plan, err := exp.Plan(ctx, env)
	if err != nil {
		return nil, err
	}
	if cfg.BuildOnly {
		env.logf("%s: %d images in the store; --build-only, nothing scanned", name, plan.Built)
		return &RunResult{}, nil
	}
	dir, err := cfg.runDir(name, started)
	if err != nil {
		return nil, err
	}
	man, err := env.manifest(exp, dir, started)
	if err != nil {
		return nil, err
	}
	set, err := Detectors(ctx, cfg, first, dir)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	for _, d := range cfg.Slice.detectors(allDetectors(set), cfg.Dynamic) {
		man.Detectors = append(man.Detectors, DetectorInfo{Name: d.Name(), Version: d.Version()})
		if _, sb := d.(sandboxed); sb {
			man.DynamicTimeout = DynamicTimeout.String()
		}
	}
	if err := man.write(dir); err != nil {
		return nil, err
	}
	for _, f := range sortedKeys(plan.Files) {
		if err := os.WriteFile(filepath.Join(dir, f), plan.Files[f], 0o644); err != nil {
			return nil, err
		}
	}
	if plan.WritesNotApplicable {
		if err := writeNotApplicable(filepath.Join(dir, NotApplicableFile), plan.NotApplicable); err != nil {
			return nil, err
		}
	}
	opened := map[string]bool{}
	for _, p := range plan.Passes {
		dets := cfg.Slice.detectors(p.Detectors(set), cfg.Dynamic)
		if len(dets) == 0 || len(p.Images) == 0 {
			continue
		}
		fresh := cfg.Fresh && !opened[p.File]
		opened[p.File] = true
		if err := env.scanAll(ctx, p, dets, filepath.Join(dir, p.File), fresh); err != nil {
			return nil, err
		}
	}
	if cfg.Verbose {
		set.LogCache(cfg.Log)
	}
	man.Finished = time.Now().UTC()
	if err := man.write(dir); err != nil {
		return nil, err
	}
	rep, err := ReportDir(name, dir)
	if err != nil {
		return nil, err
	}
	if err := rep.WriteDir(dir); err != nil {
		return nil, err
	}
	return &RunResult{Dir: dir, Manifest: man, Report: rep}, nil
}

// ReportDir derives the report of experiment name from the record files in
// dir (a run or a committed result set). A run on a slice says so in the
// report's title and first warning.
func ReportDir(name, dir string) (*Report, error) {
	exp, err := Get(name)
	if err != nil {
		return nil, err
	}
	man, err := ReadManifest(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var s Slice
	if man != nil {
		s = man.Slice
	}
	rep, err := exp.Report(dir, s)
	if err != nil {
		return nil, err
	}
	if !s.IsZero() {
		rep.Title += " — slice " + s.String()
		rep.Warnings = append([]string{fmt.Sprintf("This run is a slice (%s): its numbers are for the slice only, not for the whole experiment.", s)}, rep.Warnings...)
	}
	return rep, nil
}

// runDir creates the directory a run writes: <ResultsDir>/<exp> when the
// user named a results dir, else a new <RunsDir>/<time>-<exp>-<host>.
func (c Config) runDir(exp string, started time.Time) (string, error) {
	if c.ResultsDir != "" {
		dir := filepath.Join(c.ResultsDir, exp)
		return dir, os.MkdirAll(dir, 0o755)
	}
	if err := os.MkdirAll(c.RunsDir, 0o755); err != nil {
		return "", fmt.Errorf("create runs dir: %w", err)
	}
	base := fmt.Sprintf("%s-%s-%s", started.Format("20060102-150405"), exp, hostname())
	for i := 1; ; i++ {
		dir := filepath.Join(c.RunsDir, base)
		if i > 1 {
			dir = fmt.Sprintf("%s.%d", dir, i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("create run dir: %w", err)
		}
	}
}

// buildEach runs build for jobs 0..n-1, Jobs at a time, with one progress
// phase; each build returns its per-image line (shown with Verbose). After
// a failure no new job starts.
func (e *Env) buildEach(ctx context.Context, label string, n int, build func(ctx context.Context, i int) (string, error)) error {
	bar := e.phase(label, n)
	defer bar.Done()
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(e.Config.Jobs)
	for i := 0; i < n; i++ {
		eg.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err // another build failed: do not start new ones
			}
			msg, err := build(gctx, i)
			if err != nil {
				return err
			}
			bar.Step(msg)
			return nil
		})
	}
	return eg.Wait()
}

// scanAll scans every image of p with every detector (bounded
// concurrency), skipping records that exist, and appends records in image
// order so the file does not depend on scheduling.
func (e *Env) scanAll(ctx context.Context, p Pass, dets []detectors.Detector, path string, fresh bool) error {
	recs, err := OpenRecords(path, fresh)
	if err != nil {
		return err
	}
	type slot struct {
		rec  Record
		skip bool
		na   bool // the detector has nothing to say about the image
		done chan struct{}
	}
	slots := make([]*slot, 0, len(p.Images)*len(dets))
	for _, b := range p.Images {
		for _, d := range dets {
			s := &slot{done: make(chan struct{})}
			probe := Record{Image: b.Name, ManifestDigest: b.Descriptor.Digest.String(), Detector: d.Name(), DetectorVersion: d.Version()}
			s.skip = recs.Has(probe)
			if bs, ok := d.(builtScanner); ok && !bs.applies(b) {
				s.skip, s.na = true, true
			}
			slots = append(slots, s)
		}
	}
	bar := e.phase(p.Experiment+" scan → "+p.File, len(slots))
	defer bar.Done()
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(e.Config.Jobs)
	go func() {
		i := 0
		for _, b := range p.Images {
			for _, d := range dets {
				s := slots[i]
				i++
				if s.skip {
					close(s.done)
					continue
				}
				eg.Go(func() error {
					defer close(s.done)
					if err := gctx.Err(); err != nil {
						return err // interrupted or another scan failed: start no more
					}
					r, err := Scan(gctx, p.Experiment, b, d)
					if err != nil {
						return err
					}
					s.rec = r
					return nil
				})
			}
		}
	}()
	// Append in order as results arrive.
	i := 0
	for _, b := range p.Images {
		for _, d := range dets {
			s := slots[i]
			i++
			select {
			case <-s.done:
			case <-gctx.Done():
				return firstErr(eg.Wait(), gctx.Err())
			}
			if s.na {
				bar.Step(fmt.Sprintf("%s %s: not applicable", b.Name, d.Name()))
				continue
			}
			if s.skip {
				bar.Step(fmt.Sprintf("%s %s: already recorded", b.Name, d.Name()))
				continue
			}
			if s.rec.Detector == "" { // the scan failed; eg.Wait has the error
				return firstErr(eg.Wait(), fmt.Errorf("scan %s with %s failed", b.Name, d.Name()))
			}
			if err := recs.Append(s.rec); err != nil {
				return err
			}
			bar.Step(fmt.Sprintf("%s %s: %s", b.Name, d.Name(), s.rec.Decision))
		}
	}
	return eg.Wait()
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
