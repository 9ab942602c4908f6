package gatebench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	"github.com/strata-sec/strata/internal/syncbuf"
)

// Result is one run with a given worker count.
type Result struct {
	Workers int `json:"workers"`
	// Run is 1..Repeat; Kill marks the kill run.
	Run  int  `json:"run"`
	Kill bool `json:"kill,omitempty"`
	// Pushed counts distinct manifests pushed (each has a job).
	Pushed int `json:"pushed"`
	// EnqueueSeconds is the replay of the registry's notifications to the
	// fresh gate, while no worker runs.
	EnqueueSeconds float64 `json:"enqueue_seconds"`
	// DrainSeconds is from the first scan start to the last verdict
	// stored; ScansPerMinute is verdicts per minute of it.
	DrainSeconds   float64 `json:"drain_seconds"`
	ScansPerMinute float64 `json:"scans_per_minute"`
	// Queue latency: enqueue to scan start (it includes the wait for the
	// workers to start); scan: pull and detector, per image.
	QueueP50 float64 `json:"queue_seconds_p50"`
	QueueP99 float64 `json:"queue_seconds_p99"`
	ScanP50  float64 `json:"scan_seconds_p50"`
	ScanP99  float64 `json:"scan_seconds_p99"`
	// Verdicts is the number of pushed images with a verdict, Missing
	// (lost) the pushed images without one, Extra the verdicts of nothing
	// pushed; Scans is strata_gate_scans_total (verdicts stored) and
	// Duplicated the scans beyond one per pushed image.
	Verdicts    int `json:"verdicts"`
	Missing     int `json:"missing"`
	Extra       int `json:"extra"`
	Scans       int `json:"scans"`
	Duplicated  int `json:"duplicated"`
	Redelivered int `json:"redelivered"`
	// TimedOut: the run gave up waiting for verdicts (Timeout).
	TimedOut  bool           `json:"timed_out,omitempty"`
	Decisions map[string]int `json:"decisions"`
	Detectors []string       `json:"detectors"`
	// Killed names the worker killed with SIGKILL, the job it was
	// scanning and how many verdicts were in at that moment.
	Killed *Killed `json:"killed,omitempty"`
	// Peak resident set sizes in MiB (VmHWM) of each worker process and of
	// the strata serve process (HTTP API, embedded NATS); a killed worker's
	// is its peak until the kill.
	WorkerRSSMiB []float64 `json:"worker_peak_rss_mib"`
	ServeRSSMiB  float64   `json:"serve_peak_rss_mib"`
	// Load averages (1, 5, 15 min) when the run started and ended.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

// Killed is the worker the kill run killed.
type Killed struct {
	Worker         string `json:"worker"`
	Job            string `json:"job"`
	VerdictsAtKill int    `json:"verdicts_at_kill"`
}

const token = "gatebench"

// bench is the part shared by every run: the registry holding the pushed
// images and the notifications it sent when they were pushed.
type bench struct {
	cfg         Config
	tmp         string
	reg         *registryproc.Proc
	front       string // the registry's host:port as the gate reaches it
	rec         *http.Server
	pushed      map[string]bool
	pushSeconds float64
	envelopes   [][]byte
}

// startBench starts the registry, pushes every image once and waits until
// the registry has notified every manifest push. Each run replays those
// notifications to a fresh gate: the registry content is the same for
// every run, and the gate sees the registry's own events.
func startBench(ctx context.Context, cfg Config, imgs []v1.Image) (*bench, error) {
	tmp, err := os.MkdirTemp("", "strata-gatebench-")
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, tmp: tmp}
	var mu sync.Mutex
	manifests := map[string]bool{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.stop()
		return nil, err
	}
	b.rec = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var env gate.Envelope
		if json.Unmarshal(body, &env) == nil {
			mu.Lock()
			b.envelopes = append(b.envelopes, body)
			for _, e := range env.Events {
				if e.Action == "push" && e.Target.Tag != "" {
					manifests[e.Target.Digest] = true
				}
			}
			mu.Unlock()
		}
	})}
	go func() { _ = b.rec.Serve(ln) }()
	b.reg, err = registryproc.Start(cfg.RegistryBin, filepath.Join(tmp, "registry"),
		registryproc.Config{NotifyURL: "http://" + ln.Addr().String() + "/v1/notifications", NotifyToken: token})
	if err != nil {
		b.stop()
		return nil, fmt.Errorf("%w (install Debian's docker-registry: make setup)", err)
	}
	b.front = b.reg.Addr
	if cfg.Front != nil {
		b.front = cfg.Front(b.reg.Addr)
	}
	b.pushed, b.pushSeconds, err = push(ctx, b.reg.Addr, imgs)
	if err != nil {
		b.stop()
		return nil, err
	}
	fmt.Fprintf(cfg.Stderr, "gate bench: pushed %d images in %.1fs\n", len(b.pushed), b.pushSeconds)
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := 0
		for d := range b.pushed {
			if manifests[d] {
				n++
			}
		}
		mu.Unlock()
		if n == len(b.pushed) {
			return b, nil
		}
		if time.Now().After(deadline) {
			b.stop()
			return nil, fmt.Errorf("the registry notified %d of %d manifest pushes within a minute after the last push", n, len(b.pushed))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (b *bench) stop() {
	if b.reg != nil {
		b.reg.Stop()
	}
	if b.rec != nil {
		_ = b.rec.Close()
	}
	_ = os.RemoveAll(b.tmp)
}

// proc is a strata child process whose output is kept for polling.
type proc struct {
	id   string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	peak float64 // MiB
}

func (b *bench) start(id string, args ...string) (*proc, error) {
	var c *exec.Cmd
	if b.cfg.Command != nil {
		c = b.cfg.Command(args...)
	} else {
		c = exec.Command(b.cfg.Exe, args...)
	}
	p := &proc{id: id, cmd: c, out: &syncbuf.Buffer{}}
	c.Stdout, c.Stderr = p.out, p.out
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start strata %s: %w", args[0], err)
	}
	return p, nil
}

// stopProc ends p with SIGTERM (unless it has exited) and returns its
// peak RSS in MiB (p.peak, read before it ends).
func stopProc(p *proc) float64 {
	if p.cmd.ProcessState == nil {
		p.readPeak()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	}
	return p.peak
}

// readPeak keeps the process's peak RSS so far, VmHWM of
// /proc/PID/status. wait4's ru_maxrss would not do: Linux carries the
// forking process's peak into the child's at exec, so every child would
// report at least this benchmark's own.
func (p *proc) readPeak() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.ParseFloat(f[0], 64); err == nil && len(f) == 2 && f[1] == "kB" {
				p.peak = kb / 1024
			}
		}
	}
}

var serveAddrs = regexp.MustCompile(`HTTP on (http://\S+)\n.*NATS on (nats://\S+)`)

// run is one run on a fresh gate: strata serve (embedded NATS, no workers
// inside) gets the replayed notifications, so every job waits in the
// queue; then the worker processes start and drain it.
func (b *bench) run(ctx context.Context, workers int, kill bool) (Result, error) {
	r := Result{Workers: workers, Kill: kill, Pushed: len(b.pushed), Decisions: map[string]int{}, LoadStart: loadavg()}
	dir, err := os.MkdirTemp(b.tmp, "run-")
	if err != nil {
		return r, err
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return r, err
	}
	args := []string{"serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "nats"), "--nats-listen", "127.0.0.1:0",
		"--token-file", tokenFile, "--registry", b.front, "--workers", "0", "--insecure"}
	if b.cfg.AckWait > 0 {
		args = append(args, "--ack-wait", b.cfg.AckWait.String())
	}
	serve, err := b.start("serve", args...)
	if err != nil {
		return r, err
	}
	defer stopProc(serve)
	var base, natsURL string
	if err := poll(ctx, 30*time.Second, func() bool {
		m := serveAddrs.FindStringSubmatch(serve.out.String())
		if m != nil {
			base, natsURL = m[1], m[2]
		}
		return m != nil
	}); err != nil || base == "" {
		return r, fmt.Errorf("strata serve did not start (%v):\n%s", err, serve.out)
	}

	t0 := time.Now()
	for _, env := range b.envelopes {
		if err := notify(ctx, base, env); err != nil {
			return r, err
		}
	}
	r.EnqueueSeconds = time.Since(t0).Seconds()
	if m, err := scrape(base); err != nil || m.waiting != len(b.pushed) {
		return r, fmt.Errorf("after the replay %d jobs wait, want %d (%v)", m.waiting, len(b.pushed), err)
	}

	var procs []*proc
	defer func() {
		for _, p := range procs {
			stopProc(p)
		}
	}()
	for i := 0; i < workers; i++ {
		id := fmt.Sprintf("w%d", i+1)
		p, err := b.start(id, "worker", "--insecure", "--nats", natsURL, "--id", id)
		if err != nil {
			return r, err
		}
		procs = append(procs, p)
	}

	deadline := time.Now().Add(b.cfg.Timeout)
	killAt := max(1, len(b.pushed)/4)
	for {
		m, err := scrape(base)
		if err != nil {
			return r, err
		}
		if m.verdicts >= len(b.pushed) && m.waiting == 0 && m.scanning == 0 {
			break
		}
		if kill && r.Killed == nil && m.verdicts >= killAt {
			r.Killed = killMidScan(procs, m.verdicts, b.cfg.KillJob)
		}
		if time.Now().After(deadline) {
			r.TimedOut = true
			fmt.Fprintf(b.cfg.Stderr, "gate bench: %d of %d verdicts after %s; reporting the rest as lost\n", m.verdicts, len(b.pushed), b.cfg.Timeout)
			break
		}
		wait := 500 * time.Millisecond
		if kill && r.Killed == nil {
			wait = 5 * time.Millisecond // catch a worker mid-scan
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(wait):
		}
	}
	if kill && r.Killed == nil {
		return r, fmt.Errorf("the kill run found no worker mid-scan after %d verdicts", killAt)
	}
	recs, err := verdicts(base)
	if err != nil {
		return r, err
	}
	if m, err := scrape(base); err == nil {
		r.Scans = m.scans
	}
	b.tally(&r, recs)
	for _, p := range procs {
		r.WorkerRSSMiB = append(r.WorkerRSSMiB, stopProc(p))
	}
	procs = nil
	r.ServeRSSMiB = stopProc(serve)
	r.LoadEnd = loadavg()
	return r, nil
}

// tally fills r's counts and latencies from the verdicts.
func (b *bench) tally(r *Result, recs []gate.Record) {
	var firstStart, last time.Time
	var queue, scan []float64
	dets := map[string]bool{}
	got := map[string]bool{}
	for _, rec := range recs {
		if rec.Index {
			continue
		}
		if !b.pushed[rec.Digest] {
			r.Extra++
			continue
		}
		got[rec.Digest] = true
		r.Decisions[rec.Decision]++
		dets[gate.DetectorID(rec.Detector.Name, rec.Detector.Version)] = true
		if rec.Attempts > 1 {
			r.Redelivered++
		}
		start := rec.EnqueuedAt.Add(time.Duration(rec.QueueSeconds * float64(time.Second)))
		if firstStart.IsZero() || start.Before(firstStart) {
			firstStart = start
		}
		if rec.ScannedAt.After(last) {
			last = rec.ScannedAt
		}
		queue, scan = append(queue, rec.QueueSeconds), append(scan, rec.ScanSeconds)
	}
	r.Verdicts = len(got)
	r.Missing = len(b.pushed) - r.Verdicts
	r.Duplicated = max(0, r.Scans-r.Verdicts)
	r.Detectors = sortedKeys(dets)
	r.DrainSeconds = last.Sub(firstStart).Seconds()
	if r.DrainSeconds > 0 {
		r.ScansPerMinute = float64(r.Verdicts) / r.DrainSeconds * 60
	}
	r.QueueP50, r.QueueP99 = quantile(queue, 0.5), quantile(queue, 0.99)
	r.ScanP50, r.ScanP99 = quantile(scan, 0.5), quantile(scan, 0.99)
}

// killMidScan kills, with SIGKILL, a worker whose last log line says it
// is scanning (a job accept takes, when accept is not nil); nil when none
// is.
func killMidScan(procs []*proc, verdicts int, accept func(job string) bool) *Killed {
	for _, p := range procs {
		if p.cmd.ProcessState != nil {
			continue
		}
		out := strings.TrimRight(p.out.String(), "\n")
		line := out[strings.LastIndexByte(out, '\n')+1:]
		_, job, ok := strings.Cut(line, ": scanning ")
		if !ok {
			continue
		}
		job, _, _ = strings.Cut(job, " (attempt")
		if accept != nil && !accept(job) {
			continue
		}
		p.readPeak()
		if p.cmd.Process.Signal(syscall.SIGKILL) != nil {
			continue
		}
		_ = p.cmd.Wait()
		return &Killed{Worker: p.id, Job: job, VerdictsAtKill: verdicts}
	}
	return nil
}

// notify posts one recorded envelope to the gate.
func notify(ctx context.Context, base string, env []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/notifications", bytes.NewReader(env))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", gate.EventsMediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("replay a notification: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("replay a notification: %s: %s", resp.Status, b)
	}
	return nil
}

// gateMetrics is what a run reads from /metrics.
type gateMetrics struct {
	verdicts, scans, waiting, scanning int
}

// scrape reads the gate's /metrics.
func scrape(base string) (gateMetrics, error) {
	var m gateMetrics
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return m, fmt.Errorf("metrics line %q: %w", line, err)
		}
		switch {
		case strings.HasPrefix(f[0], "strata_gate_verdicts{"):
			m.verdicts += int(v)
		case strings.HasPrefix(f[0], "strata_gate_scans_total{"):
			m.scans += int(v)
		case f[0] == `strata_gate_queue_jobs{state="waiting"}`:
			m.waiting = int(v)
		case f[0] == `strata_gate_queue_jobs{state="scanning"}`:
			m.scanning = int(v)
		}
	}
	return m, sc.Err()
}

// verdicts reads every verdict from the gate.
func verdicts(base string) ([]gate.Record, error) {
	resp, err := http.Get(base + "/v1/verdicts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list struct {
		Verdicts []gate.Record `json:"verdicts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /v1/verdicts: %w", err)
	}
	return list.Verdicts, nil
}

// poll calls f every 50 ms until it returns true, d passes or ctx ends.
func poll(ctx context.Context, d time.Duration, f func() bool) error {
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
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
