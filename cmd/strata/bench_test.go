package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestBench(t *testing.T) {
	dir := t.TempDir()
	writeLayout(t, filepath.Join(dir, "oci"), map[string]v1.Image{"clean": cleanImage(t), "miner": minerImage(t)})
	args := []string{"bench", "--count", "2", "--out", filepath.Join(dir, "out"), filepath.Join(dir, "oci") + ":clean", filepath.Join(dir, "oci") + ":miner"}
	engines := true
	if _, err := exec.LookPath("clamscan"); err != nil || testing.Short() {
		engines = false
	} else if _, err := exec.LookPath("yara"); err != nil {
		engines = false
	}
	if !engines {
		args = append(args, "--engines=false")
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("bench: %v\n%s", err, errb.String())
	}
	text := out.String()
	for _, want := range []string{benchFloor, benchCold, benchWarm, "cold scan throughput", "warm scan"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if engines && !strings.Contains(text, benchClamscan) {
		t.Errorf("output lacks %q:\n%s", benchClamscan, text)
	}
	for _, f := range []string{"bench.md", "bench.json", "machine.md"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Error(err)
		}
	}
	var rep benchReport
	b, err := os.ReadFile(filepath.Join(dir, "out", "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != BenchSchema || len(rep.Images) != 2 {
		t.Fatalf("bench.json: schema %q, %d images", rep.Schema, len(rep.Images))
	}
	for _, bi := range rep.Images {
		if bi.Bytes <= 0 {
			t.Errorf("%s: no uncompressed bytes counted", bi.Target)
		}
		for _, m := range bi.Measurements {
			if len(m.RunsNS) != 2 || m.MedianNS <= 0 {
				t.Errorf("%s %s: runs %v median %d", bi.Target, m.Name, m.RunsNS, m.MedianNS)
			}
		}
		// The warm scan replays every layer from the cache.
		for _, m := range bi.Measurements {
			if m.Name == benchWarm {
				for _, x := range m.Extra {
					if x["cache_misses"] != 0 {
						t.Errorf("%s: warm scan missed the cache: %v", bi.Target, x)
					}
				}
			}
		}
	}
}

func TestBenchMedian(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want int64
	}{{nil, 0}, {[]int64{5}, 5}, {[]int64{3, 1, 2}, 2}, {[]int64{4, 1, 3, 2}, 2}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestBenchBuildVerdicts(t *testing.T) {
	tests := []struct {
		name          string
		b             benchBuilds
		wantCold      string
		wantWarmPass  bool
		wantPerMinute float64
	}{
		{name: "fast", b: benchBuilds{Images: 408, ColdNS: int64(3 * time.Minute), WarmNS: int64(30 * time.Second)}, wantCold: "PASS", wantWarmPass: true, wantPerMinute: 136},
		{name: "slow", b: benchBuilds{Images: 408, ColdNS: int64(20 * time.Minute), WarmNS: int64(3 * time.Minute)}, wantCold: "FAIL", wantWarmPass: false, wantPerMinute: 20.4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.perMinute(tt.b.ColdNS); got < tt.wantPerMinute-0.01 || got > tt.wantPerMinute+0.01 {
				t.Errorf("perMinute = %.2f, want %.2f", got, tt.wantPerMinute)
			}
			v := benchBuildVerdicts(&tt.b)
			if len(v) != 2 || !strings.HasPrefix(v[0], tt.wantCold) || strings.HasPrefix(v[1], "PASS") != tt.wantWarmPass {
				t.Errorf("verdicts = %q", v)
			}
			var buf bytes.Buffer
			if err := benchBuildsTable(&tt.b).WriteMarkdown(&buf); err != nil || !strings.Contains(buf.String(), "408") {
				t.Errorf("table: %v\n%s", err, buf.String())
			}
		})
	}
}
