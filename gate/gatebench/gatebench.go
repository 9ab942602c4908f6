package gatebench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/internal/store"
)

// Config is one `strata bench gate`.
type Config struct {
	// Store is the experiment store; Prefixes pick its images by name, in
	// this order (e.g. exp2/ first, then exp3/ and benign/ if exp2/ has
	// fewer than N distinct manifests).
	Store    string
	Prefixes []string
	// N is the number of distinct manifests to push.
	N int
	// Workers lists the worker counts to run, e.g. 1 and 2; each runs
	// Repeat times.
	Workers []int
	Repeat  int
	// Kill adds a run with 2 workers in which one worker process is
	// killed with SIGKILL mid-scan.
	Kill bool
	// Exe is the strata binary the serve and worker processes run;
	// Command, if set, makes the command from strata's arguments instead
	// (tests run their own binary).
	Exe     string
	Command func(args ...string) *exec.Cmd
	// RegistryBin is Debian's docker-registry.
	RegistryBin string
	// Detector is the DetectorID the strata binary scans with; the
	// report names the one the verdicts carry.
	Detector string
	// Timeout bounds each run's wait for every verdict.
	Timeout time.Duration
	// AckWait, if set, is strata serve's --ack-wait: how long a killed
	// worker's job waits before it is redelivered.
	AckWait time.Duration
	// Front, if set, returns the host:port the gate and workers reach the
	// registry (at addr) through: tests put a proxy there that holds
	// some blob reads, so a scan is reliably in progress when the kill
	// run looks for one.
	Front func(addr string) string
	// KillJob, if set, limits the kill run to a worker scanning a job it
	// accepts ("host/repo@digest"): tests pick the image whose blob the
	// Front proxy holds, so the worker killed is certainly mid-scan and
	// not one whose quick scan ended between its log line and the kill.
	KillJob func(job string) bool
	// Out, if set, receives gate.md and gate.json.
	Out            string
	Stdout, Stderr io.Writer
}

// Report is what gate.json holds.
type Report struct {
	Store    string   `json:"store"`
	Prefixes []string `json:"prefixes"`
	// Images is the number of distinct manifests pushed; Sources counts
	// them per prefix.
	Images  int            `json:"images"`
	Sources map[string]int `json:"sources"`
	// Detector is the name@version every verdict carries.
	Detector string `json:"detector"`
	Repeat   int    `json:"repeat"`
	// PushSeconds is the one push of every image to the registry; every
	// run replays the notifications it sent (see Result).
	PushSeconds float64           `json:"push_seconds"`
	Runs        []Result          `json:"runs"`
	Summary     []Summary         `json:"summary"`
	Kill        *Result           `json:"kill,omitempty"`
	Machine     map[string]string `json:"machine"`
	Date        time.Time         `json:"date"`
}

// Run runs the benchmark: the images are pushed once, then each worker
// count runs Repeat times on a fresh gate, then the kill run; then the
// report. It returns an error after writing the report when a run lost or
// duplicated a verdict.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Repeat < 1 {
		cfg.Repeat = 1
	}
	imgs, sources, err := distinctImages(cfg)
	if err != nil {
		return Report{}, err
	}
	b, err := startBench(ctx, cfg, imgs)
	if err != nil {
		return Report{}, err
	}
	defer b.stop()
	rep := Report{Store: cfg.Store, Prefixes: cfg.Prefixes, Images: len(imgs), Sources: sources, Repeat: cfg.Repeat,
		PushSeconds: b.pushSeconds, Machine: machine(), Date: time.Now().UTC()}
	for _, w := range cfg.Workers {
		for i := 0; i < cfg.Repeat; i++ {
			fmt.Fprintf(cfg.Stderr, "gate bench: %d images, %d worker(s), run %d of %d\n", len(imgs), w, i+1, cfg.Repeat)
			r, err := b.run(ctx, w, false)
			if err != nil {
				return rep, fmt.Errorf("%d workers, run %d: %w", w, i+1, err)
			}
			r.Run = i + 1
			rep.Runs = append(rep.Runs, r)
		}
	}
	if cfg.Kill {
		fmt.Fprintf(cfg.Stderr, "gate bench: %d images, 2 workers, one killed with SIGKILL mid-scan\n", len(imgs))
		r, err := b.run(ctx, 2, true)
		if err != nil {
			return rep, fmt.Errorf("kill run: %w", err)
		}
		rep.Kill = &r
	}
	rep.Summary = summarize(rep.Runs)
	var bad []string
	dets := map[string]bool{}
	for _, r := range append(append([]Result(nil), rep.Runs...), killRuns(rep.Kill)...) {
		for _, d := range r.Detectors {
			dets[d] = true
		}
		if r.Missing > 0 || r.Duplicated > 0 || r.Extra > 0 {
			bad = append(bad, fmt.Sprintf("%d workers run %d (kill %v): %d lost, %d duplicated, %d extra", r.Workers, r.Run, r.Kill, r.Missing, r.Duplicated, r.Extra))
		}
	}
	rep.Detector = strings.Join(sortedKeys(dets), ", ")
	if rep.Detector != cfg.Detector {
		bad = append(bad, fmt.Sprintf("verdicts carry detector %q, the strata binary scans with %q", rep.Detector, cfg.Detector))
	}
	if err := writeMarkdown(cfg.Stdout, rep); err != nil {
		return rep, err
	}
	if cfg.Out != "" {
		if err := write(cfg.Out, rep); err != nil {
			return rep, err
		}
	}
	if len(bad) > 0 {
		return rep, fmt.Errorf("not every pushed image got exactly one verdict: %s", strings.Join(bad, "; "))
	}
	return rep, nil
}

func killRuns(r *Result) []Result {
	if r == nil {
		return nil
	}
	return []Result{*r}
}

// distinctImages takes N images with distinct manifest digests from the
// store, prefix by prefix in name order: experiment variants that differ
// only in a mutation without effect on the image are one manifest, and
// would be one job to the gate.
func distinctImages(cfg Config) ([]v1.Image, map[string]int, error) {
	st, err := store.Open(cfg.Store)
	if err != nil {
		return nil, nil, err
	}
	es, err := st.Entries()
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	sources := map[string]int{}
	var imgs []v1.Image
	for _, p := range cfg.Prefixes {
		for _, e := range es {
			if len(imgs) == cfg.N {
				return imgs, sources, nil
			}
			d := e.Descriptor.Digest.String()
			if !strings.HasPrefix(e.Name(), p) || !e.Descriptor.MediaType.IsImage() || seen[d] {
				continue
			}
			img, err := st.Image(e.Descriptor.Digest)
			if err == nil {
				_, err = img.Manifest()
			}
			if err != nil {
				// A store another run is writing can hold a half-written
				// entry; the benchmark needs N images, not that one.
				fmt.Fprintf(cfg.Stderr, "gate bench: skipping %s: %v\n", e.Name(), err)
				continue
			}
			seen[d] = true
			sources[p]++
			imgs = append(imgs, img)
		}
	}
	if len(imgs) < cfg.N {
		return nil, nil, fmt.Errorf("the store %s has %d distinct image manifests named %s, want %d: run make experiment2 first (or strata experiment exp3 / benign for more), or lower --n",
			cfg.Store, len(imgs), strings.Join(cfg.Prefixes, "* or ")+"*", cfg.N)
	}
	return imgs, sources, nil
}
