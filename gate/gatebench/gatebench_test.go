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

// TestMarkdown pins gate.md's layout (go test ./gate/gatebench -update
// rewrites the golden file).
func TestMarkdown(t *testing.T) {
	rep := Report{Prefix: "exp2/", Images: 200, Detector: "hierarchical@0.4.1", Date: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		Machine: map[string]string{"CPU model": "Example CPU", "CPUs (runtime.NumCPU)": "2"},
		Runs: []Result{
			{Workers: 1, Pushed: 200, Seconds: 600, PushSeconds: 50, ScansPerMinute: 20, Capacity: 41.4, QueueP50: 290, QueueP99: 590, ScanP50: 2.9, ScanP99: 6.1,
				Verdicts: 200, Scans: 200, WorkerRSSMiB: []float64{98.4}, ServeRSSMiB: 80.2},
			{Workers: 2, Pushed: 200, Seconds: 400, PushSeconds: 55, ScansPerMinute: 30, Capacity: 80, QueueP50: 190, QueueP99: 390, ScanP50: 3.9, ScanP99: 8.2,
				Verdicts: 199, Missing: 1, Scans: 199, Redelivered: 2, WorkerRSSMiB: []float64{95, 91.6}, ServeRSSMiB: 82},
		}}
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
