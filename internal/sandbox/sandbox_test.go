package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/sandbox"
)

var (
	probeOnce sync.Once
	probeBin  []byte
	probeErr  error
)

// probe compiles testdata/probe (static, stdlib only) once per test binary.
func probe(t *testing.T) []byte {
	t.Helper()
	probeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strata-probe-")
		if err != nil {
			probeErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "probe")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/probe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			probeErr = err
			t.Logf("%s", b)
			return
		}
		probeBin, probeErr = os.ReadFile(out)
	})
	if probeErr != nil {
		t.Fatalf("build probe: %v", probeErr)
	}
	return probeBin
}

// needRunc skips unless the sandbox can run here.
func needRunc(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("sandbox integration test: skipped with -short")
	}
	if err := sandbox.Check(); err != nil {
		t.Skipf("sandbox integration test: %v", err)
	}
}

// probeImage is a two-layer image: a base with /tmp and /etc, and the probe
// added by a second layer, started as "probe MODE".
func probeImage(t *testing.T, cfg v1.Config) v1.Image {
	return detectortest.Image(t, cfg,
		detectortest.Run("mkdir -p /tmp /etc", detectortest.File{Name: "tmp", Type: '5', Mode: 0o1777}, detectortest.Dir("etc"), detectortest.Dir("etc/cron.d"),
			detectortest.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
			detectortest.Text("etc/group", "root:x:0:\napp:x:1000:\n")),
		detectortest.Run("cp probe /usr/bin/probe", detectortest.Exec("usr/bin/probe", string(probe(t)))),
	)
}

// hostState is what a run must leave as it found it on the host. Other
// packages' tests (BuildKit builds, other sandboxes) run beside this one,
// so it looks only at what this run could have made: its cgroup and runc
// container (named by its ID), mounts under its work dir, named network
// namespaces of ours, and the host's huge pages.
type hostState struct {
	cgroups, mounts, netns, runcRun string
	hugepages                       string
}

func snapshot(t *testing.T, work, id string) hostState {
	t.Helper()
	var s hostState
	if id != "" {
		cg, _ := filepath.Glob("/sys/fs/cgroup/*/" + id)
		cg2, _ := filepath.Glob("/sys/fs/cgroup/" + id)
		s.cgroups = strings.Join(append(cg, cg2...), " ")
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, work) {
			s.mounts += l + "\n"
		}
	}
	ns, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	for _, l := range strings.Split(string(ns), "\n") {
		if strings.Contains(l, "strata") {
			s.netns += l + "\n"
		}
	}
	if id != "" {
		rr, _ := exec.Command("runc", "list", "-q").CombinedOutput()
		for _, l := range strings.Fields(string(rr)) {
			if l == id {
				s.runcRun += l + "\n"
			}
		}
	}
	hp, _ := os.ReadFile("/proc/sys/vm/nr_hugepages")
	s.hugepages = string(hp)
	return s
}

// runSealed runs img and checks the host is as it was.
func runSealed(t *testing.T, img v1.Image, opts ...sandbox.Option) *sandbox.Observations {
	t.Helper()
	work := t.TempDir()
	before := snapshot(t, work, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	obs, err := sandbox.Run(ctx, img, append([]sandbox.Option{sandbox.WithWorkDir(work), sandbox.WithTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.HasPrefix(obs.Container, "strata-") {
		t.Fatalf("Container = %q, want strata-<hex>", obs.Container)
	}
	// Before the run its ID did not exist, so nothing could carry it.
	after := snapshot(t, work, obs.Container)
	if before != after {
		t.Errorf("host changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if ents, _ := os.ReadDir(work); len(ents) != 0 {
		t.Errorf("work dir not emptied: %v", ents)
	}
	t.Logf("stdout: %s\nstderr: %s", obs.Stdout, obs.Stderr)
	return obs
}

func TestStratumLoginIsCaught(t *testing.T) {
	needRunc(t)
	obs := runSealed(t, probeImage(t, v1.Config{Entrypoint: []string{"/usr/bin/probe"}, Cmd: []string{"stratum"}}))
	var login, authorize bool
	for _, m := range obs.Stratum {
		if m.Method == "login" && m.Dest == "203.0.113.7:3333" && strings.HasPrefix(m.User, "4TESTWALLET") && m.Agent == "probe/1.0" && len(m.Algo) == 1 && m.Exe == "/usr/bin/probe" {
			login = true
		}
		if m.Method == "mining.authorize" && m.Dest == "pool.example.com:4444" && m.User == "probe.worker" {
			authorize = true
		}
	}
	if !login || !authorize {
		t.Errorf("stratum login %v, authorize %v; got %+v", login, authorize, obs.Stratum)
	}
	if !strings.Contains(obs.Stdout, `pool 203.0.113.7:3333 said "{`) {
		t.Errorf("the probe did not hear the catch-all's answer: %q", obs.Stdout)
	}
	var dns, http bool
	for _, q := range obs.DNS {
		dns = dns || q.Name == "pool.example.com"
	}
	for _, h := range obs.HTTP {
		http = http || (h.Path == "/payload.sh" && h.Dest == "198.51.100.9:80")
	}
	if !dns || !http {
		t.Errorf("dns %v (%+v), http %v (%+v)", dns, obs.DNS, http, obs.HTTP)
	}
	if og, ok := obs.Origins["/usr/bin/probe"]; !ok || og.Layer != 1 || !strings.Contains(og.CreatedBy, "cp probe") {
		t.Errorf("origin of /usr/bin/probe = %+v, %v; want layer 1", og, ok)
	}
	if obs.TimedOut || obs.ExitCode != 0 {
		t.Errorf("timed out %v, exit %d", obs.TimedOut, obs.ExitCode)
	}
}

func TestHostileAttemptsAreContained(t *testing.T) {
	needRunc(t)
	tests := []struct {
		name  string
		mode  string
		check func(t *testing.T, obs *sandbox.Observations)
	}{
		{"escape", "escape", func(t *testing.T, obs *sandbox.Observations) {
			for _, p := range []string{"/host-escape-marker", "/tmp/strata-escape-marker", "/sys/kernel/strata-escape-marker"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s exists on the host", p)
				}
			}
			if !strings.Contains(obs.Stdout, "write /proc/sys/vm/nr_hugepages: open /proc/sys/vm/nr_hugepages: read-only file system") {
				t.Errorf("nr_hugepages write not refused: %q", obs.Stdout)
			}
			var cron bool
			for _, f := range obs.Files {
				cron = cron || f.Path == "/etc/cron.d/probe"
			}
			if !cron {
				t.Errorf("write to /etc/cron.d not recorded: %+v", obs.Files)
			}
		}},
		{"fork bomb", "forkbomb", func(t *testing.T, obs *sandbox.Observations) {
			if !hasPrefix(obs.Limits, "pids limit") {
				t.Errorf("pids limit not reported: %v", obs.Limits)
			}
			if !obs.TimedOut {
				t.Error("fork bomb not killed at the time limit")
			}
		}},
		{"fill disk", "fill", func(t *testing.T, obs *sandbox.Observations) {
			if !hasPrefix(obs.Limits, "disk limit") || !strings.Contains(obs.Stdout, "no space left on device") {
				t.Errorf("disk limit not reached: limits %v, stdout %q", obs.Limits, obs.Stdout)
			}
		}},
		{"outlive", "sleep", func(t *testing.T, obs *sandbox.Observations) {
			if !obs.TimedOut || obs.Wall > 8*time.Second {
				t.Errorf("timed out %v after %v", obs.TimedOut, obs.Wall)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := runSealed(t, probeImage(t, v1.Config{Entrypoint: []string{"/usr/bin/probe", tt.mode}}),
				sandbox.WithLimits(sandbox.Limits{CPUs: 1, MemoryBytes: 256 << 20, Pids: 32, DiskBytes: 16 << 20}))
			tt.check(t, obs)
		})
	}
}

func TestBenignImagesStayQuiet(t *testing.T) {
	needRunc(t)
	tests := []struct {
		name string
		cfg  v1.Config
	}{
		{"prints and exits", v1.Config{Entrypoint: []string{"/usr/bin/probe", "benign"}, User: "app"}},
		{"web server with health check", v1.Config{Entrypoint: []string{"/usr/bin/probe", "serve"},
			Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/usr/bin/probe", "get", "http://127.0.0.1:8080/"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := runSealed(t, probeImage(t, tt.cfg))
			if len(obs.Connections)+len(obs.Stratum)+len(obs.DNS)+len(obs.HTTP) != 0 {
				t.Errorf("network observations from a benign image: %+v", obs)
			}
			if len(obs.Limits) != 0 {
				t.Errorf("limits hit: %v", obs.Limits)
			}
			if len(obs.Processes) == 0 {
				t.Error("no process seen")
			}
			if obs.Healthcheck != nil && !strings.Contains(obs.HealthcheckOutput, "200 OK") {
				t.Errorf("health check against the image's own server: %q", obs.HealthcheckOutput)
			}
		})
	}
}

func hasPrefix(ss []string, p string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// TestStartCommandHardLinkedFromLowerLayer: a start command that is a hard
// link, made by a later layer, to a lower layer's file runs (a runtime
// applies each layer onto the ones below it; separately extracted layers
// alone would not hold the file, and the run would see nothing).
func TestStartCommandHardLinkedFromLowerLayer(t *testing.T) {
	needRunc(t)
	img := detectortest.Image(t, v1.Config{Entrypoint: []string{"/usr/local/bin/start", "stratum"}},
		detectortest.Run("mkdir -p /tmp /etc", detectortest.File{Name: "tmp", Type: '5', Mode: 0o1777}, detectortest.Dir("etc"),
			detectortest.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")),
		detectortest.Run("cp probe /usr/bin/probe", detectortest.Exec("usr/bin/probe", string(probe(t)))),
		detectortest.Run("ln /usr/bin/probe /usr/local/bin/start", detectortest.Hardlink("usr/local/bin/start", "usr/bin/probe")),
	)
	runsWithLayerStore(t, img, "the hard-linked start command did not run")
}

// TestRepeatedLayerRuns: an image that repeats a layer (as legacy builds
// repeat the empty one) runs under the layer store instead of failing the
// overlay mount.
func TestRepeatedLayerRuns(t *testing.T) {
	needRunc(t)
	etc := detectortest.Run("mkdir -p /tmp /etc", detectortest.File{Name: "tmp", Type: '5', Mode: 0o1777}, detectortest.Dir("etc"),
		detectortest.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"))
	img := detectortest.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/probe", "stratum"}},
		etc,
		detectortest.Run("cp probe /usr/bin/probe", detectortest.Exec("usr/bin/probe", string(probe(t)))),
		etc,
	)
	runsWithLayerStore(t, img, "the image with a repeated layer did not run")
}

// TestManyLayersRun: an image whose stored layers do not fit in one overlay
// mount's options runs from its root written whole instead of failing.
func TestManyLayersRun(t *testing.T) {
	needRunc(t)
	ls := []detectortest.Step{
		detectortest.Run("mkdir -p /tmp /etc", detectortest.File{Name: "tmp", Type: '5', Mode: 0o1777}, detectortest.Dir("etc"),
			detectortest.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")),
		detectortest.Run("cp probe /usr/bin/probe", detectortest.Exec("usr/bin/probe", string(probe(t)))),
	}
	for i := range 40 {
		ls = append(ls, detectortest.Run(fmt.Sprintf("echo %d > /etc/n%d", i, i), detectortest.Text(fmt.Sprintf("etc/n%d", i), fmt.Sprint(i))))
	}
	img := detectortest.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/probe", "stratum"}}, ls...)
	runsWithLayerStore(t, img, "the 42-layer image did not run")
}

// runsWithLayerStore runs img under a fresh layer store and fails unless its
// start command logged in to the fake pool and exited 0; what names the
// image in the message.
func runsWithLayerStore(t *testing.T, img v1.Image, what string) {
	t.Helper()
	obs := runSealed(t, img, sandbox.WithLayerStore(sandbox.NewLayerStore(t.TempDir(), 1<<30)))
	var login bool
	for _, m := range obs.Stratum {
		login = login || m.Method == "login"
	}
	if !login || obs.ExitCode != 0 {
		t.Errorf("stratum login %v, exit %d, stderr %q: %s", login, obs.ExitCode, obs.Stderr, what)
	}
}

// TestStopsWhenRuncKillDoesNot: with a runc whose kill does nothing (as
// when a cgroup v1 freezer hangs), the sandbox still stops the container
// at its time limit: it kills the container's cgroup itself. The run ends
// timed out, without error, and the host is unchanged (runSealed).
func TestStopsWhenRuncKillDoesNot(t *testing.T) {
	needRunc(t)
	real, err := exec.LookPath("runc")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = kill ] && exit 0; done\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "runc"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	img := probeImage(t, v1.Config{Entrypoint: []string{"/usr/bin/probe", "sleep"}})
	start := time.Now()
	obs := runSealed(t, img, sandbox.WithTimeout(2*time.Second))
	if !obs.TimedOut {
		t.Errorf("TimedOut = false, exit %d: the sleeping probe should have been killed at the limit", obs.ExitCode)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the run took %s", d)
	}
}

// TestHealthcheckOrphanIsReaped: a HEALTHCHECK command that outlives its
// 5 s timeout has its runc exec killed, so the command is reparented to
// the sandbox (a child subreaper); at the time limit the container's init
// dies only once every process of its PID namespace is reaped. The sandbox
// reaps such orphans, so the run ends at its limit without error (before,
// it failed with "did not stop within ... of SIGKILL", 0 processes left).
func TestHealthcheckOrphanIsReaped(t *testing.T) {
	needRunc(t)
	img := probeImage(t, v1.Config{Entrypoint: []string{"/usr/bin/probe", "sleep"},
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/usr/bin/probe", "sleep"}}})
	obs := runSealed(t, img, sandbox.WithTimeout(9*time.Second))
	if !obs.TimedOut {
		t.Errorf("TimedOut = false, exit %d", obs.ExitCode)
	}
	if !strings.Contains(obs.HealthcheckOutput, "killed") && !strings.Contains(obs.HealthcheckOutput, "signal") {
		t.Logf("health check output %q (expected its runc exec killed at the 5 s timeout)", obs.HealthcheckOutput)
	}
}
