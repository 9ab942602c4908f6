package gate

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics keeps what /metrics reports. Counts of scans come from the
// verdict bucket, so they cover every worker, on any machine. The text
// exposition format is written here rather than with a client library to
// keep the strata binary small.
type metrics struct {
	mu            sync.Mutex
	notifications map[string]float64
	scans         map[string]float64
	verdicts      map[string]verdictSeen
	quarantined   float64
	scanSeconds   histogram
	queueSeconds  histogram
}

type verdictSeen struct {
	decision  string
	scannedAt time.Time
}

func newMetrics() *metrics {
	b := []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	return &metrics{notifications: map[string]float64{}, scans: map[string]float64{}, verdicts: map[string]verdictSeen{},
		scanSeconds: newHistogram(b), queueSeconds: newHistogram(b)}
}

func (m *metrics) notified(outcome string) {
	m.mu.Lock()
	m.notifications[outcome]++
	m.mu.Unlock()
}

// stored counts a record seen in the bucket. Records present at start
// (initial) set the verdict gauge only; a later record is a scan unless it
// only added a tag to a verdict already seen.
func (m *metrics) stored(r Record, initial bool) {
	if r.Index {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, seen := m.verdicts[r.Digest]
	m.verdicts[r.Digest] = verdictSeen{r.Decision, r.ScannedAt}
	if initial || seen && prev.scannedAt.Equal(r.ScannedAt) {
		return
	}
	m.scans[r.Decision]++
	m.scanSeconds.observe(r.ScanSeconds)
	m.queueSeconds.observe(r.QueueSeconds)
	if r.Quarantine != nil && r.Quarantine.Error == "" {
		m.quarantined++
	}
}

// write writes the exposition; waiting and scanning are the queue depth
// (negative: unknown).
func (m *metrics) write(w io.Writer, waiting, scanning float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	verdicts := map[string]float64{}
	for _, v := range m.verdicts {
		verdicts[v.decision]++
	}
	labelled(w, "strata_gate_notifications_total", "counter", "Registry notification events by outcome.", "outcome", m.notifications)
	labelled(w, "strata_gate_scans_total", "counter", "Image verdicts stored since this process started, by decision.", "decision", m.scans)
	labelled(w, "strata_gate_verdicts", "gauge", "Image verdicts in the bucket, by decision.", "decision", verdicts)
	labelled(w, "strata_gate_quarantined_total", "counter", "Malicious images quarantined since start.", "", map[string]float64{"": m.quarantined})
	if waiting >= 0 {
		labelled(w, "strata_gate_queue_jobs", "gauge", "Scan jobs in the queue: waiting, or handed to a worker and not yet acknowledged.", "state",
			map[string]float64{"waiting": waiting, "scanning": scanning})
	}
	m.scanSeconds.write(w, "strata_gate_scan_seconds", "Seconds to scan one image (pull and detector).")
	m.queueSeconds.write(w, "strata_gate_queue_seconds", "Seconds from enqueue to the start of the scan.")
}

func labelled(w io.Writer, name, typ, help, label string, vals map[string]float64) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if label == "" {
			fmt.Fprintf(w, "%s %g\n", name, vals[k])
			continue
		}
		fmt.Fprintf(w, "%s{%s=\"%s\"} %g\n", name, label, escapeLabel(k), vals[k])
	}
}

// escapeLabel escapes a label value as the text format wants.
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

type histogram struct {
	bounds []float64
	counts []uint64 // per bound, not cumulative
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) histogram {
	return histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(v float64) {
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += v
	h.count++
}

func (h *histogram) write(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, b, cum)
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, h.count, name, h.sum, name, h.count)
}
