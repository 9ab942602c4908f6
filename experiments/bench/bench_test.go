package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// writeLayout writes a layout with a clean image and one whose layer holds
// a stand-in miner binary.
func writeLayout(t *testing.T, dir string) {
	t.Helper()
	clean := dt.Image(t, v1.Config{Cmd: []string{"/usr/local/bin/app"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
		dt.Step{CreatedBy: "COPY app /usr/local/bin/app", Files: []dt.File{dt.Exec("usr/local/bin/app", "#!/bin/sh\necho serving\n")}})
	miner := dt.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/xmrig", "-o", "stratum+tcp://pool.example.com:3333"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
		dt.Step{CreatedBy: "ADD xmrig /usr/bin/xmrig", Files: []dt.File{dt.Exec("usr/bin/xmrig",
			"\x7fELF XMRig 6.21.0 mining.subscribe mining.authorize mining.submit stratum+tcp:// randomx cryptonight --donate-level")}})
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for n, img := range map[string]v1.Image{"clean": clean, "miner": miner} {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": n})); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	oci := filepath.Join(dir, "oci")
	writeLayout(t, oci)
	engines := true
	if _, err := exec.LookPath("clamscan"); err != nil || testing.Short() {
		engines = false
	} else if _, err := exec.LookPath("yara"); err != nil {
		engines = false
	}
	var out, errb bytes.Buffer
	_, err := Run(context.Background(), Config{Refs: []string{oci + ":clean", oci + ":miner"}, Count: 2, Out: filepath.Join(dir, "out"),
		Engines: engines, Flatten: true, Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errb.String())
	}
	text := out.String()
	for _, want := range []string{measureFloor, measureCold, measureWarm, "cold scan throughput", "warm scan"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{measureCold1CPU, measureFloorAll, "the floor itself on"} {
		if runtime.GOMAXPROCS(0) > 1 && !strings.Contains(text, want) {
			t.Errorf("output lacks %q on a %d-core machine:\n%s", want, runtime.GOMAXPROCS(0), text)
		}
	}
	if engines && !strings.Contains(text, measureClamscan) {
		t.Errorf("output lacks %q:\n%s", measureClamscan, text)
	}
	for _, f := range []string{"bench.md", "bench.json", "machine.md"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Error(err)
		}
	}
	var rep Report
	b, err := os.ReadFile(filepath.Join(dir, "out", "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != Schema || len(rep.Images) != 3 {
		t.Fatalf("bench.json: schema %q, %d images, want the two and the first flattened", rep.Schema, len(rep.Images))
	}
	// The flattened copy follows the first image: one layer, same bytes
	// of final content (the clean image has no whiteouts).
	if f := rep.Images[1]; f.Target != rep.Images[0].Target+flattenedSuffix || f.Layers != 1 || rep.Images[0].Layers != 2 {
		t.Errorf("flattened entry %q with %d layers after %q with %d", f.Target, f.Layers, rep.Images[0].Target, rep.Images[0].Layers)
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
			if m.Name == measureWarm {
				for _, x := range m.Extra {
					if x["cache_misses"] != 0 {
						t.Errorf("%s: warm scan missed the cache: %v", bi.Target, x)
					}
				}
			}
		}
	}
}

func TestRunConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "nothing", cfg: Config{Count: 1}, wantErr: "nothing to bench"},
		{name: "count", cfg: Config{Refs: []string{"x"}, Count: 0}, wantErr: "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want int64
	}{{nil, 0}, {[]int64{5}, 5}, {[]int64{3, 1, 2}, 2}, {[]int64{4, 1, 3, 2}, 2}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestBuildVerdicts(t *testing.T) {
	tests := []struct {
		name          string
		b             Builds
		wantCold      string
		wantWarmPass  bool
		wantPerMinute float64
	}{
		{name: "fast", b: Builds{Images: 408, ColdNS: int64(3 * time.Minute), WarmNS: int64(30 * time.Second)}, wantCold: "PASS", wantWarmPass: true, wantPerMinute: 136},
		{name: "slow", b: Builds{Images: 408, ColdNS: int64(20 * time.Minute), WarmNS: int64(3 * time.Minute)}, wantCold: "FAIL", wantWarmPass: false, wantPerMinute: 20.4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.perMinute(tt.b.ColdNS); got < tt.wantPerMinute-0.01 || got > tt.wantPerMinute+0.01 {
				t.Errorf("perMinute = %.2f, want %.2f", got, tt.wantPerMinute)
			}
			v := buildVerdicts(&tt.b)
			if len(v) != 2 || !strings.HasPrefix(v[0], tt.wantCold) || strings.HasPrefix(v[1], "PASS") != tt.wantWarmPass {
				t.Errorf("verdicts = %q", v)
			}
			var buf bytes.Buffer
			if err := buildsTable(&tt.b).WriteMarkdown(&buf); err != nil || !strings.Contains(buf.String(), "408") {
				t.Errorf("table: %v\n%s", err, buf.String())
			}
		})
	}
}

// TestDynamicVerdicts: a sandbox run, warm or cold, passes within its time
// limit plus dynamicSlack and fails beyond it; other measurements give no
// line.
func TestDynamicVerdicts(t *testing.T) {
	run := func(name string, total, setup time.Duration) Image {
		return Image{Target: "store:exp3/x", Measurements: []Measurement{{
			Name: name, MedianNS: total.Nanoseconds(),
			Extra: []map[string]int64{{"setup_ns": setup.Nanoseconds(), "run_ns": (total - setup).Nanoseconds(), "teardown_ns": 0, "timeout_ns": (10 * time.Second).Nanoseconds()}},
		}}}
	}
	tests := []struct {
		name string
		img  Image
		want string // prefix of the one line; "" for none
	}{
		{"warm within limit plus slack", run(measureDynamicWarm, 12*time.Second, 200*time.Millisecond), "PASS"},
		{"warm over", run(measureDynamicWarm, 16*time.Second, 6*time.Second), "FAIL"},
		{"cold within", run(measureDynamicCold, 14*time.Second, 4*time.Second), "PASS"},
		{"cold over", run(measureDynamicCold, 16*time.Second, 6*time.Second), "FAIL"},
		{"no dynamic entry", Image{Target: "store:x", Measurements: []Measurement{{Name: measureCold, MedianNS: 1}}}, ""},
	}
	for _, tt := range tests {
		got := dynamicVerdicts(Report{Images: []Image{tt.img}})
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("%s: got %q, want no line", tt.name, got)
		case tt.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tt.want)):
			t.Errorf("%s: got %q, want one line starting %s", tt.name, got, tt.want)
		}
	}
}

// TestParallelVerdict: on two cores the cold scan is held to 1.5x the
// single-core floor for a multi-layer image and 70% for a one-layer one;
// no line on one core or without the one-core measurement.
func TestParallelVerdict(t *testing.T) {
	img := func(layers int, floor, cold time.Duration, oneCore bool) Image {
		bi := Image{Target: "store:exp1/x", Layers: layers, Measurements: []Measurement{
			{Name: measureFloor, MedianNS: floor.Nanoseconds()},
			{Name: measureCold, MedianNS: cold.Nanoseconds()},
			{Name: measureWarm, MedianNS: 1},
		}}
		if oneCore {
			bi.Measurements = append(bi.Measurements, Measurement{Name: measureCold1CPU, MedianNS: (2 * floor).Nanoseconds()})
		}
		return bi
	}
	tests := []struct {
		name  string
		procs string
		img   Image
		want  string // prefix of the parallel line; "" for none
	}{
		{"multi-layer fast", "2", img(12, 3*time.Second, 1900*time.Millisecond, true), "PASS"},
		{"multi-layer slow", "2", img(12, 3*time.Second, 2500*time.Millisecond, true), "FAIL"},
		{"one layer within 70%", "2", img(1, 3*time.Second, 4*time.Second, true), "PASS"},
		{"one layer under 70%", "2", img(1, 3*time.Second, 5*time.Second, true), "FAIL"},
		{"one core", "1", img(12, 3*time.Second, 1900*time.Millisecond, true), ""},
		{"no one-core measurement", "2", img(12, 3*time.Second, 1900*time.Millisecond, false), ""},
	}
	for _, tt := range tests {
		var got []string
		for _, v := range verdicts(Report{Machine: map[string]string{"gomaxprocs": tt.procs}, Images: []Image{tt.img}}) {
			if strings.Contains(v, "single-core floor") {
				got = append(got, v)
			}
		}
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("%s: got %q, want no line", tt.name, got)
		case tt.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tt.want)):
			t.Errorf("%s: got %q, want one line starting %s", tt.name, got, tt.want)
		}
	}
}
