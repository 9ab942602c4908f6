package gatebench

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
	}{
		{"empty", nil, 0.5, 0},
		{"one", []float64{3}, 0.99, 3},
		{"median of 4 (nearest rank)", []float64{4, 1, 3, 2}, 0.5, 2},
		{"p99 of 100", func() []float64 {
			xs := make([]float64, 100)
			for i := range xs {
				xs[i] = float64(100 - i)
			}
			return xs
		}(), 0.99, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.xs, tt.q); got != tt.want {
				t.Errorf("quantile = %g, want %g", got, tt.want)
			}
		})
	}
}

func TestStatOf(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want Stat
	}{
		{"none", nil, Stat{}},
		{"one", []float64{5}, Stat{5, 5, 5}},
		{"odd", []float64{3, 1, 2}, Stat{2, 1, 3}},
		{"even: mean of the middle two", []float64{4, 1, 3, 2}, Stat{2.5, 1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statOf(tt.xs); got != tt.want {
				t.Errorf("statOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	runs := []Result{
		{Workers: 1, Run: 1, ScansPerMinute: 100, Pushed: 10, Verdicts: 10, Scans: 10, WorkerRSSMiB: []float64{90}},
		{Workers: 1, Run: 2, ScansPerMinute: 120, Pushed: 10, Verdicts: 10, Scans: 10, WorkerRSSMiB: []float64{95}},
		{Workers: 2, Run: 1, ScansPerMinute: 180, Pushed: 10, Verdicts: 9, Missing: 1, Scans: 11, Duplicated: 2, WorkerRSSMiB: []float64{80, 99}},
	}
	got := summarize(runs)
	if len(got) != 2 || got[0].Workers != 1 || got[1].Workers != 2 {
		t.Fatalf("summaries %+v, want workers 1 then 2", got)
	}
	if s := got[0]; s.Runs != 2 || s.ScansPerMinute != (Stat{110, 100, 120}) || s.WorkerRSSMiB != (Stat{92.5, 90, 95}) || s.Verdicts != 20 || s.Pushed != 20 {
		t.Errorf("1 worker: %+v", s)
	}
	if s := got[1]; s.Missing != 1 || s.Duplicated != 2 || s.WorkerRSSMiB != (Stat{99, 99, 99}) {
		t.Errorf("2 workers: %+v, want 1 lost, 2 duplicated, the largest worker's RSS", s)
	}
}

// TestMarkdown pins gate.md's layout (go test ./gate/gatebench -update
// rewrites the golden file).
func TestMarkdown(t *testing.T) {
	runs := []Result{
		{Workers: 1, Run: 1, Pushed: 200, EnqueueSeconds: 1.2, DrainSeconds: 70, ScansPerMinute: 171.4, QueueP50: 40, QueueP99: 75, ScanP50: 0.2, ScanP99: 3.1,
			Verdicts: 200, Scans: 200, WorkerRSSMiB: []float64{98.4}, ServeRSSMiB: 60.2, LoadStart: "0.10 0.20 0.30", LoadEnd: "1.00 0.50 0.40"},
		{Workers: 1, Run: 2, Pushed: 200, EnqueueSeconds: 1.1, DrainSeconds: 66, ScansPerMinute: 181.8, QueueP50: 38, QueueP99: 70, ScanP50: 0.2, ScanP99: 2.9,
			Verdicts: 200, Scans: 200, WorkerRSSMiB: []float64{97}, ServeRSSMiB: 61, LoadStart: "1.00 0.50 0.40", LoadEnd: "1.10 0.60 0.40"},
		{Workers: 2, Run: 1, Pushed: 200, EnqueueSeconds: 1.3, DrainSeconds: 40, ScansPerMinute: 300, QueueP50: 25, QueueP99: 45, ScanP50: 0.3, ScanP99: 4,
			Verdicts: 200, Scans: 200, WorkerRSSMiB: []float64{95, 91.6}, ServeRSSMiB: 62, LoadStart: "1.10 0.60 0.40", LoadEnd: "2.00 0.90 0.50"},
	}
	kill := Result{Workers: 2, Kill: true, Pushed: 200, EnqueueSeconds: 1.2, DrainSeconds: 75, ScansPerMinute: 160, QueueP50: 25, QueueP99: 70, ScanP50: 0.3, ScanP99: 4,
		Verdicts: 200, Scans: 200, Redelivered: 1, WorkerRSSMiB: []float64{90, 93}, ServeRSSMiB: 63, LoadStart: "2.00 0.90 0.50", LoadEnd: "2.10 1.00 0.60",
		Killed: &Killed{Worker: "w2", Job: "127.0.0.1:5000/bench/img-042@sha256:ab", VerdictsAtKill: 50}}
	rep := Report{Prefixes: []string{"exp2/", "exp3/", "benign/"}, Sources: map[string]int{"exp2/": 190, "exp3/": 10}, Images: 200, Detector: "hierarchical@0.6.0",
		Repeat: 2, PushSeconds: 250, Date: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		Machine: map[string]string{"CPU model": "Example CPU", "CPUs (runtime.NumCPU)": "2"},
		Runs:    runs, Summary: summarize(runs), Kill: &kill}
	var b bytes.Buffer
	if err := writeMarkdown(&b, rep); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "gate.md.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./gate/gatebench -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("gate.md differs from %s (go test -update rewrites it):\n%s", golden, b.String())
	}
}
