package gatebench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Stat is the median and range of one figure over a worker count's runs.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summary is one worker count over its Repeat runs.
type Summary struct {
	Workers        int  `json:"workers"`
	Runs           int  `json:"runs"`
	ScansPerMinute Stat `json:"scans_per_minute"`
	DrainSeconds   Stat `json:"drain_seconds"`
	QueueP50       Stat `json:"queue_seconds_p50"`
	QueueP99       Stat `json:"queue_seconds_p99"`
	ScanP50        Stat `json:"scan_seconds_p50"`
	ScanP99        Stat `json:"scan_seconds_p99"`
	// WorkerRSSMiB is over the largest worker of each run.
	WorkerRSSMiB Stat `json:"worker_peak_rss_mib"`
	ServeRSSMiB  Stat `json:"serve_peak_rss_mib"`
	// Totals over the runs.
	Verdicts    int `json:"verdicts"`
	Pushed      int `json:"pushed"`
	Missing     int `json:"missing"`
	Extra       int `json:"extra"`
	Scans       int `json:"scans"`
	Duplicated  int `json:"duplicated"`
	Redelivered int `json:"redelivered"`
}

// summarize groups runs by worker count, in the order they ran.
func summarize(runs []Result) []Summary {
	var out []Summary
	idx := map[int]int{}
	groups := map[int][]Result{}
	for _, r := range runs {
		if _, ok := idx[r.Workers]; !ok {
			idx[r.Workers] = len(out)
			out = append(out, Summary{Workers: r.Workers})
		}
		groups[r.Workers] = append(groups[r.Workers], r)
	}
	for i := range out {
		g := groups[out[i].Workers]
		s := &out[i]
		s.Runs = len(g)
		stat := func(f func(Result) float64) Stat {
			xs := make([]float64, len(g))
			for j, r := range g {
				xs[j] = f(r)
			}
			return statOf(xs)
		}
		s.ScansPerMinute = stat(func(r Result) float64 { return r.ScansPerMinute })
		s.DrainSeconds = stat(func(r Result) float64 { return r.DrainSeconds })
		s.QueueP50 = stat(func(r Result) float64 { return r.QueueP50 })
		s.QueueP99 = stat(func(r Result) float64 { return r.QueueP99 })
		s.ScanP50 = stat(func(r Result) float64 { return r.ScanP50 })
		s.ScanP99 = stat(func(r Result) float64 { return r.ScanP99 })
		s.WorkerRSSMiB = stat(func(r Result) float64 { return maxOf(r.WorkerRSSMiB) })
		s.ServeRSSMiB = stat(func(r Result) float64 { return r.ServeRSSMiB })
		for _, r := range g {
			s.Verdicts += r.Verdicts
			s.Pushed += r.Pushed
			s.Missing += r.Missing
			s.Extra += r.Extra
			s.Scans += r.Scans
			s.Duplicated += r.Duplicated
			s.Redelivered += r.Redelivered
		}
	}
	return out
}

// statOf is the median (mean of the middle two for an even count) and
// range of xs.
func statOf(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1]}
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// loadavg is /proc/loadavg's 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// machine describes this machine for the report.
func machine() map[string]string {
	m := map[string]string{"CPUs (runtime.NumCPU)": strconv.Itoa(runtime.NumCPU()), "Go": runtime.Version(), "OS/arch": runtime.GOOS + "/" + runtime.GOARCH,
		"Load average at start (1, 5, 15 min)": loadavg()}
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

func (s Stat) String() string {
	if s.Min == s.Max {
		return trim(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", trim(s.Median), trim(s.Min), trim(s.Max))
}

// trim prints x with 3 significant digits at most, and no more than 2
// decimals.
func trim(x float64) string {
	switch a := math.Abs(x); {
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func rssList(xs []float64) string {
	out := make([]string, len(xs))
	for i, v := range xs {
		out[i] = fmt.Sprintf("%.0f", v)
	}
	return strings.Join(out, ", ")
}

// writeMarkdown renders the report.
func writeMarkdown(w io.Writer, rep Report) error {
	var b strings.Builder
	var src []string
	for _, p := range rep.Prefixes {
		if n := rep.Sources[p]; n > 0 {
			src = append(src, fmt.Sprintf("%d `%s*`", n, p))
		}
	}
	fmt.Fprintf(&b, "# strata bench gate\n\n%d distinct image manifests from the store (%s; entries whose manifest digest was already chosen are skipped) were pushed once, 4 at a time with go-containerregistry, to Debian's docker-registry on 127.0.0.1 in %.1f s. Each run starts a fresh `strata serve` (embedded NATS JetStream in a new directory, no worker inside) and replays to it the notifications the registry sent for those pushes, so every job is queued before any worker runs; then it starts the `strata worker` processes and times the drain. Detector: %s. %d run(s) per worker count, %s.\n\n",
		rep.Images, strings.Join(src, ", "), rep.PushSeconds, rep.Detector, rep.Repeat, rep.Date.Format("2006-01-02"))
	b.WriteString("## Scale-out (median, min–max over the runs)\n\n")
	b.WriteString("| workers | runs | scans/min | drain s | queue p50 s | queue p99 s | scan p50 s | scan p99 s | verdicts | lost | extra | scans | duplicated | redelivered | worker peak RSS MiB | serve peak RSS MiB |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range rep.Summary {
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %s | %s | %s | %d/%d | %d | %d | %d | %d | %d | %s | %s |\n",
			s.Workers, s.Runs, s.ScansPerMinute, s.DrainSeconds, s.QueueP50, s.QueueP99, s.ScanP50, s.ScanP99,
			s.Verdicts, s.Pushed, s.Missing, s.Extra, s.Scans, s.Duplicated, s.Redelivered, s.WorkerRSSMiB, s.ServeRSSMiB)
	}
	b.WriteString("\n## Every run\n\n| workers | run | push s | enqueue s | scans/min | drain s | queue p50 s | queue p99 s | scan p50 s | scan p99 s | verdicts | lost | scans | duplicated | redelivered | worker peak RSS MiB | serve peak RSS MiB | load at start | load at end |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|\n")
	runs := append([]Result(nil), rep.Runs...)
	if rep.Kill != nil {
		runs = append(runs, *rep.Kill)
	}
	for _, r := range runs {
		run := strconv.Itoa(r.Run)
		if r.Kill {
			run = "kill"
		}
		if r.TimedOut {
			run += " (timed out)"
		}
		fmt.Fprintf(&b, "| %d | %s | %.1f | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %d/%d | %d | %d | %d | %d | %s | %.0f | %s | %s |\n",
			r.Workers, run, rep.PushSeconds, r.EnqueueSeconds, r.ScansPerMinute, r.DrainSeconds, r.QueueP50, r.QueueP99, r.ScanP50, r.ScanP99,
			r.Verdicts, r.Pushed, r.Missing, r.Scans, r.Duplicated, r.Redelivered, rssList(r.WorkerRSSMiB), r.ServeRSSMiB, r.LoadStart, r.LoadEnd)
	}
	if k := rep.Kill; k != nil {
		b.WriteString("\n## Kill run\n\n")
		if k.Killed != nil {
			fmt.Fprintf(&b, "With 2 workers, worker %s was killed with SIGKILL (by PID) while its last log line said it was scanning `%s`, after %d verdicts were in. ", k.Killed.Worker, k.Killed.Job, k.Killed.VerdictsAtKill)
		}
		b.WriteString("Its drain includes the wait (serve's `--ack-wait`, 30 s by default) before the killed worker's job went to the other worker, so its rate is not a scale-out figure. ")
		fmt.Fprintf(&b, "Lost (pushed without a verdict): %d. Duplicated (scans beyond one per pushed image): %d. Redelivered (verdicts stored on a later delivery of their job): %d. Verdicts %d/%d, scans %d.\n",
			k.Missing, k.Duplicated, k.Redelivered, k.Verdicts, k.Pushed, k.Scans)
	}
	b.WriteString(`
## What the columns mean

- push s: one push of every image to the registry (the registry notifies a recorder in the benchmark). Every run then uses the same registry content: the runs differ only in the gate, which is new each time and receives the registry's own notification bodies, replayed (enqueue s). Pushing again for each run would add the same registry writes and nothing the gate does.
- jobs: each image is pushed to a repository of its own (bench/img-NNN) and has a distinct manifest digest, so each is one job. The gate queues a job per digest and repository (a repository's policy must apply to its push), and a worker never scans a digest that already has a verdict of its detector, so a digest pushed to two repositories would be two jobs and one scan (two only when two workers take both jobs at the same moment).
- scans/min: verdicts per minute of the drain, from the first scan start to the last verdict stored; the workers start after every job is queued, so the pushes do not bound it.
- queue p50/p99: enqueue to scan start, per image. It includes the time from the replay to the workers' start and the image's place in the backlog, so it measures the drain, not an idle gate's latency.
- scan p50/p99: pull from the registry and detector, per image (a worker keeps a per-layer cache, so variants that share layers scan faster after the first).
- verdicts: pushed images with a verdict / distinct manifests pushed; lost: pushed images without one; extra: verdicts of images not pushed; scans: ` + "`strata_gate_scans_total`" + ` (verdicts stored); duplicated: scans beyond one per pushed image; redelivered: verdicts stored on a later delivery of their job (after a worker died).
- peak RSS: the maximum resident set size of each worker process and of the ` + "`strata serve`" + ` process (HTTP API and embedded NATS): VmHWM from /proc/PID/status, read just before the process is stopped (a killed worker's, just before the kill). Not wait4's ru_maxrss, which on Linux carries the forking process's peak into the child at exec.
- load: /proc/loadavg (1, 5, 15 min) when the run started and ended; the machine may have been shared.

## Machine

| item | value |
|---|---|
`)
	for _, k := range sortedKeys(rep.Machine) {
		fmt.Fprintf(&b, "| %s | %s |\n", k, rep.Machine[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
