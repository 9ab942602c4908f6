package gatebench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/strata-sec/strata/gate"
	"github.com/strata-sec/strata/internal/registryproc"
	"github.com/strata-sec/strata/internal/store"
)

// Config is one `strata bench gate`.
type Config struct {
	// Store is the experiment store; Prefix picks its images by name (the
	// first N in name order).
	Store, Prefix string
	N             int
	// Workers lists the worker counts to run, e.g. 1 and 2.
	Workers []int
	// Exe is the strata binary the worker processes run; Command, if set,
	// makes the worker command from strata's arguments instead (tests run
	// their own binary).
	Exe     string
	Command func(args ...string) *exec.Cmd
	// RegistryBin is Debian's docker-registry.
	RegistryBin string
	// Detector is the workers' DetectorID (for the queue's dedup IDs).
	Detector string
	// Timeout bounds each run's wait for every verdict.
	Timeout time.Duration
	// Out, if set, receives gate.md and gate.json.
	Out            string
	Stdout, Stderr io.Writer
}

// Report is what gate.json holds.
type Report struct {
	Store    string            `json:"store"`
	Prefix   string            `json:"prefix"`
	Images   int               `json:"images"`
	Detector string            `json:"detector"`
	Runs     []Result          `json:"runs"`
	Machine  map[string]string `json:"machine"`
	Date     time.Time         `json:"date"`
}

// Result is one run with a given worker count.
type Result struct {
	Workers int `json:"workers"`
	// Pushed counts distinct manifests: store entries with the same
	// digest are one image to the registry and the gate.
	Pushed int `json:"pushed"`
	// Seconds is from the first enqueue to the last verdict stored.
	Seconds        float64 `json:"seconds"`
	PushSeconds    float64 `json:"push_seconds"`
	ScansPerMinute float64 `json:"scans_per_minute"`
	// Capacity is verdicts per minute of busy worker time (the sum of
	// scan seconds, shared by the workers): the rate the workers would
	// reach if pushes never kept them waiting.
	Capacity float64 `json:"capacity_scans_per_minute"`
	QueueP50 float64 `json:"queue_seconds_p50"`
	QueueP99 float64 `json:"queue_seconds_p99"`
	ScanP50  float64 `json:"scan_seconds_p50"`
	ScanP99  float64 `json:"scan_seconds_p99"`
	// Verdicts is the number of pushed images with a verdict, Missing and
	// Extra the pushed images without one and verdicts of nothing pushed;
	// Scans counts verdicts stored (strata_gate_scans_total), so Scans >
	// Pushed means an image was scanned twice.
	Verdicts    int            `json:"verdicts"`
	Missing     int            `json:"missing"`
	Extra       int            `json:"extra"`
	Scans       int            `json:"scans"`
	Redelivered int            `json:"redelivered"`
	Decisions   map[string]int `json:"decisions"`
	// Peak resident set sizes in MiB: each worker process, and this
	// process (embedded NATS, gate server and the pushes) so far.
	WorkerRSSMiB []float64 `json:"worker_peak_rss_mib"`
	ServeRSSMiB  float64   `json:"serve_peak_rss_mib"`
}

// Run runs the benchmark: one pass per worker count, then the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	st, err := store.Open(cfg.Store)
	if err != nil {
		return Report{}, err
	}
	es, err := st.Entries()
	if err != nil {
		return Report{}, err
	}
	var imgs []v1.Image
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), cfg.Prefix) || !e.Descriptor.MediaType.IsImage() {
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
		imgs = append(imgs, img)
		if len(imgs) == cfg.N {
			break
		}
	}
	if len(imgs) < cfg.N {
		return Report{}, fmt.Errorf("the store %s has %d images named %s*, want %d: build them first (strata experiment exp2) or lower --n", cfg.Store, len(imgs), cfg.Prefix, cfg.N)
	}
	rep := Report{Store: cfg.Store, Prefix: cfg.Prefix, Images: cfg.N, Detector: cfg.Detector, Machine: machine(), Date: time.Now().UTC()}
	for _, w := range cfg.Workers {
		fmt.Fprintf(cfg.Stderr, "gate bench: %d images, %d worker(s)\n", cfg.N, w)
		r, err := runOnce(ctx, cfg, imgs, w)
		if err != nil {
			return rep, fmt.Errorf("%d workers: %w", w, err)
		}
		rep.Runs = append(rep.Runs, r)
	}
	if err := writeMarkdown(cfg.Stdout, rep); err != nil {
		return rep, err
	}
	if cfg.Out != "" {
		if err := write(cfg.Out, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func runOnce(ctx context.Context, cfg Config, imgs []v1.Image, workers int) (Result, error) {
	tmp, err := os.MkdirTemp("", "strata-gatebench-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	ns, err := gate.StartNATS(filepath.Join(tmp, "nats"), "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	defer ns.Shutdown()
	nc, err := ns.Connect()
	if err != nil {
		return Result{}, err
	}
	defer nc.Close()
	q, s, err := gate.Open(ctx, nc, gate.WithDetector(cfg.Detector))
	if err != nil {
		return Result{}, err
	}
	const token = "gatebench"
	srv, err := gate.NewServer(q, s, token, nil)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = srv.Watch(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	reg, err := registryproc.Start(cfg.RegistryBin, filepath.Join(tmp, "registry"),
		registryproc.Config{NotifyURL: base + "/v1/notifications", NotifyToken: token})
	if err != nil {
		return Result{}, fmt.Errorf("%w (install Debian's docker-registry: make setup)", err)
	}
	defer reg.Stop()
	srv.FrontRegistry(reg.Addr)

	var procs []*exec.Cmd
	for i := 0; i < workers; i++ {
		args := []string{"worker", "--insecure", "--nats", ns.ClientURL(), "--id", fmt.Sprintf("w%d", i+1)}
		var c *exec.Cmd
		if cfg.Command != nil {
			c = cfg.Command(args...)
		} else {
			c = exec.Command(cfg.Exe, args...)
		}
		c.Stdout, c.Stderr = io.Discard, io.Discard
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			return Result{}, fmt.Errorf("start worker: %w", err)
		}
		procs = append(procs, c)
	}
	stopWorkers := func() []float64 {
		var rss []float64
		for _, c := range procs {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
		for _, c := range procs {
			_ = c.Wait()
			if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss = append(rss, float64(ru.Maxrss)/1024)
			}
		}
		procs = nil
		return rss
	}
	defer stopWorkers()

	pushed, pushSeconds, err := push(ctx, reg.Addr, imgs)
	if err != nil {
		return Result{}, err
	}
	fmt.Fprintf(cfg.Stderr, "gate bench: pushed %d images in %.1fs\n", len(pushed), pushSeconds)
	var recs []gate.Record
	deadline := time.Now().Add(cfg.Timeout)
	for {
		all, err := s.List(ctx, gate.Filter{})
		if err != nil {
			return Result{}, err
		}
		recs = recs[:0]
		for _, r := range all {
			if !r.Index {
				recs = append(recs, r)
			}
		}
		waiting, scanning, _ := q.Depth(ctx)
		if len(recs) >= len(pushed) && waiting == 0 && scanning == 0 {
			break
		}
		if time.Now().After(deadline) {
			return Result{}, fmt.Errorf("%d of %d verdicts after %s (raise --timeout)", len(recs), len(pushed), cfg.Timeout)
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	r := Result{Workers: workers, Pushed: len(pushed), PushSeconds: pushSeconds, Decisions: map[string]int{}}
	var first, last time.Time
	var queue, scan []float64
	var busy float64
	for _, rec := range recs {
		if !pushed[rec.Digest] {
			r.Extra++
			continue
		}
		r.Verdicts++
		r.Decisions[rec.Decision]++
		if rec.Attempts > 1 {
			r.Redelivered++
		}
		if first.IsZero() || rec.EnqueuedAt.Before(first) {
			first = rec.EnqueuedAt
		}
		if rec.ScannedAt.After(last) {
			last = rec.ScannedAt
		}
		queue, scan = append(queue, rec.QueueSeconds), append(scan, rec.ScanSeconds)
		busy += rec.ScanSeconds
	}
	if busy > 0 {
		r.Capacity = float64(r.Verdicts) / (busy / float64(workers)) * 60
	}
	r.Missing = len(pushed) - r.Verdicts
	r.Seconds = last.Sub(first).Seconds()
	if r.Seconds > 0 {
		r.ScansPerMinute = float64(r.Verdicts) / r.Seconds * 60
	}
	r.QueueP50, r.QueueP99 = quantile(queue, 0.5), quantile(queue, 0.99)
	r.ScanP50, r.ScanP99 = quantile(scan, 0.5), quantile(scan, 0.99)
	r.Scans, err = scansTotal(base + "/metrics")
	if err != nil {
		return Result{}, err
	}
	r.WorkerRSSMiB = stopWorkers()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.ServeRSSMiB = float64(ru.Maxrss) / 1024
	}
	return r, nil
}

// push writes every image to reg (4 at a time) as bench/img-I:latest and
// returns the set of manifest digests pushed.
func push(ctx context.Context, reg string, imgs []v1.Image) (map[string]bool, float64, error) {
	start := time.Now()
	pushed := map[string]bool{}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, img := range imgs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := func() error {
				ref, err := name.NewTag(fmt.Sprintf("%s/bench/img-%03d:latest", reg, i), name.Insecure)
				if err != nil {
					return err
				}
				if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
					return fmt.Errorf("push %s: %w", ref, err)
				}
				d, err := img.Digest()
				if err != nil {
					return err
				}
				mu.Lock()
				pushed[d.String()] = true
				mu.Unlock()
				return nil
			}()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return pushed, time.Since(start).Seconds(), firstErr
}

// scansTotal sums strata_gate_scans_total over decisions.
func scansTotal(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "strata_gate_scans_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics line %q: %w", line, err)
		}
		total += v
	}
	return int(total), sc.Err()
}

// quantile is the nearest-rank q-quantile of xs.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

// machine describes this machine for the report.
func machine() map[string]string {
	m := map[string]string{"CPUs (runtime.NumCPU)": strconv.Itoa(runtime.NumCPU()), "Go": runtime.Version(), "OS/arch": runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["CPU model"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if l, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(l, "MemTotal:") {
			m["Memory (MemTotal)"] = strings.Join(strings.Fields(strings.TrimPrefix(l, "MemTotal:")), " ")
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["Kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["Load average at start (1, 5, 15 min)"] = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}

func write(dir string, rep Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "gate.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "gate.md"))
	if err != nil {
		return err
	}
	if err := writeMarkdown(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeMarkdown renders the report.
func writeMarkdown(w io.Writer, rep Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# strata bench gate\n\n%d images (`%s*` from the store, pushed 4 at a time with go-containerregistry) to Debian's docker-registry on 127.0.0.1, which notifies an in-process gate (embedded NATS JetStream); `strata worker` processes scan them with %s. One run per worker count, %s.\n\n",
		rep.Images, rep.Prefix, rep.Detector, rep.Date.Format("2006-01-02"))
	b.WriteString("| workers | scans/min | capacity/min | wall s | push s | queue p50 s | queue p99 s | scan p50 s | scan p99 s | verdicts | missing | extra | scans | redelivered | worker peak RSS MiB | gate process peak RSS MiB |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
	for _, r := range rep.Runs {
		rss := make([]string, len(r.WorkerRSSMiB))
		for i, v := range r.WorkerRSSMiB {
			rss[i] = fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(&b, "| %d | %.1f | %.0f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %d/%d | %d | %d | %d | %d | %s | %.0f |\n",
			r.Workers, r.ScansPerMinute, r.Capacity, r.Seconds, r.PushSeconds, r.QueueP50, r.QueueP99, r.ScanP50, r.ScanP99,
			r.Verdicts, r.Pushed, r.Missing, r.Extra, r.Scans, r.Redelivered, strings.Join(rss, ", "), r.ServeRSSMiB)
	}
	b.WriteString("\nverdicts: pushed images with a verdict / distinct manifests pushed (store entries with equal digests are one image). scans/min: verdicts per minute from the first enqueue to the last verdict (the pushes overlap the scans, so a push rate below the workers' capacity bounds it). capacity/min: verdicts per minute of busy worker time (sum of scan seconds / workers). Queue latency: enqueue to scan start; the burst of pushes builds a backlog, so it grows with N. `scans` is `strata_gate_scans_total` (verdicts stored): equal to the pushed count means no image was scanned twice. Decisions per run are in gate.json. The gate process peak includes the pushes.\n\n## Machine\n\n| item | value |\n|---|---|\n")
	keys := make([]string, 0, len(rep.Machine))
	for k := range rep.Machine {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %s |\n", k, rep.Machine[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
