package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/strata-sec/strata/internal/table"
)

func imagesTable(rep Report) *table.Table {
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
		floorNS, _ := bi.median(measureFloor)
		coldNS, _ := bi.median(measureCold)
		for _, m := range bi.Measurements {
			sec := float64(m.MedianNS) / 1e9
			tput := "-"
			if sec > 0 {
				tput = fmt.Sprintf("%.1f", mb/sec)
			}
			ratio, ok := registryRatio(bi, m)
			switch {
			case ok:
			case m.Name == measureFloor:
				ratio = "1.00"
			case (m.Name == measureDynamicCold || m.Name == measureDynamicWarm) && coldNS > 0:
				ratio = fmt.Sprintf("%.1fx cold", float64(m.MedianNS)/float64(coldNS))
			case m.Name == measureWarm && coldNS > 0:
				ratio = fmt.Sprintf("%.1f%% of cold", 100*float64(m.MedianNS)/float64(coldNS))
			case m.MedianNS > 0:
				// throughput ratio = floor time / this time
				ratio = fmt.Sprintf("%.2f", float64(floorNS)/float64(m.MedianNS))
			default:
				ratio = "-"
			}
			t.Append(label(bi.Target), m.Name, fmtDur(m.MedianNS), fmt.Sprintf("%.2f", mb), tput, ratio)
		}
		if bi.EnginesNote != "" {
			t.Append(label(bi.Target), "clamscan/yara", "-", fmt.Sprintf("%.2f", mb), "-", "not timed: "+bi.EnginesNote)
		}
	}
	return t
}

// label shortens "DIR:NAME" to NAME for the table.
func label(target string) string {
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

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// verdicts gives one line per image and target from the issue.
func verdicts(rep Report) []string {
	var out []string
	for _, bi := range rep.Images {
		floorNS, _ := bi.median(measureFloor)
		coldNS, _ := bi.median(measureCold)
		warmNS, _ := bi.median(measureWarm)
		if floorNS <= 0 || coldNS <= 0 {
			continue
		}
		cold := float64(floorNS) / float64(coldNS)
		warm := float64(warmNS) / float64(coldNS)
		out = append(out,
			fmt.Sprintf("%s %s: cold scan throughput %.0f%% of floor (target >= %.0f%%)", passFail(cold >= coldTarget), label(bi.Target), 100*cold, 100*coldTarget),
			fmt.Sprintf("%s %s: warm scan %.1f%% of cold time (target <= %.0f%%)", passFail(warm <= warmTarget), label(bi.Target), 100*warm, 100*warmTarget))
		if v, ok := parallelVerdict(rep, bi, floorNS, coldNS); ok {
			out = append(out, v)
		}
	}
	return out
}

// parallelVerdict is the parallel-layers target for an image benched on
// two cores or more: its cold scan's throughput against the single-core
// floor, next to the one-core cold scan's.
func parallelVerdict(rep Report, bi Image, floorNS, coldNS int64) (string, bool) {
	c1NS, ok := bi.median(measureCold1CPU)
	procs, _ := strconv.Atoi(rep.Machine["gomaxprocs"])
	if !ok || c1NS <= 0 || procs < 2 {
		return "", false
	}
	target, shape := parallelMultiTarget, fmt.Sprintf("%d layers", bi.Layers)
	if bi.Layers == 1 {
		target, shape = parallelSingleTarget, "one layer"
	}
	got := float64(floorNS) / float64(coldNS)
	all := ""
	if faNS, ok := bi.median(measureFloorAll); ok && faNS > 0 {
		all = fmt.Sprintf(" (the floor itself on %d cores %.2fx)", procs, float64(floorNS)/float64(faNS))
	}
	return fmt.Sprintf("%s %s (%s): cold scan on %d cores %.2fx the single-core floor's throughput%s, on 1 core %.2fx (target >= %.2fx)",
		passFail(got >= target), label(bi.Target), shape, procs, got, all, float64(floorNS)/float64(c1NS), target), true
}

func machine(ctx context.Context) map[string]string {
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

func machineMarkdown(m map[string]string) string {
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
