package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/gate/gatebench"
	"github.com/strata-sec/strata/internal/store"
)

// TestBenchGate runs the gate benchmark end to end on a tiny store: a
// real docker-registry, strata serve and worker processes (this test
// binary running main), two runs with one worker and the kill run, in
// which a proxy holds the miner's layer so that a worker is reliably
// mid-scan when the benchmark looks for one to kill.
func TestBenchGate(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs Debian's docker-registry and child processes (run without -short; `make test` does)")
	}
	if _, err := os.Stat(gatebench.RegistryBinary); err != nil {
		t.Fatalf("docker-registry not installed: run make setup (%v)", err)
	}
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	imgs := benchImages(t)
	// Two names for one manifest, as experiment variants can be: the
	// benchmark takes it once. The other prefix fills up to N.
	names := []string{"a/img-0", "a/img-0-again", "a/img-1", "b/img-2"}
	for i, img := range []v1.Image{imgs[0], imgs[0], imgs[1], imgs[2]} {
		if _, err := st.Put(img, names[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	miner, err := imgs[2].Layers()
	if err != nil {
		t.Fatal(err)
	}
	stall, err := miner[len(miner)-1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	proxy := newStallProxy(t, 3*time.Second)
	proxy.stall.Store(stall.String())
	minerDigest, err := imgs[2].Digest()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cfg := gatebench.Config{Store: st.Dir(), Prefixes: []string{"a/", "b/"}, N: len(imgs), Workers: []int{1}, Repeat: 2, Kill: true,
		RegistryBin: gatebench.RegistryBinary, Detector: detectorID(t), Timeout: 2 * time.Minute, AckWait: 2 * time.Second,
		Front: func(addr string) string { proxy.to(addr); return proxy.host() },
		// Kill the worker held on the miner's layer: a quick scan can end
		// between its "scanning" log line and the kill, and then nothing
		// is redelivered.
		KillJob: func(job string) bool { return strings.HasSuffix(job, "@"+minerDigest.String()) },
		Out:     filepath.Join(dir, "out"), Stdout: &out, Stderr: &errb,
		Command: func(args ...string) *exec.Cmd {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), "STRATA_TEST_MAIN_ARGS="+strings.Join(args, " "))
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			return c
		}}
	rep, err := gatebench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if rep.Images != 3 || rep.Sources["a/"] != 2 || rep.Sources["b/"] != 1 || rep.Detector != cfg.Detector {
		t.Errorf("report: %d images from %v by %q, want 3 distinct (2 a/, 1 b/) by %s", rep.Images, rep.Sources, rep.Detector, cfg.Detector)
	}
	if len(rep.Runs) != 2 || len(rep.Summary) != 1 || rep.Summary[0].Runs != 2 || rep.Kill == nil {
		t.Fatalf("%d runs, %d summaries, kill %v: want 2 runs of 1 worker and the kill run", len(rep.Runs), len(rep.Summary), rep.Kill != nil)
	}
	for _, r := range append(rep.Runs, *rep.Kill) {
		if r.Verdicts != 3 || r.Missing != 0 || r.Extra != 0 || r.Scans != 3 || r.Duplicated != 0 || r.ScansPerMinute <= 0 ||
			len(r.WorkerRSSMiB) != r.Workers || r.WorkerRSSMiB[0] <= 0 || r.ServeRSSMiB <= 0 || r.LoadStart == "" || r.LoadEnd == "" {
			t.Errorf("run %+v: want 3 verdicts, each scanned once, a rate, RSS of every process and the load", r)
		}
		if r.Decisions["malicious"] != 1 || r.Decisions["clean"] != 2 {
			t.Errorf("decisions %v, want 1 malicious and 2 clean", r.Decisions)
		}
	}
	// The worker killed is the one held on the miner's layer: its job is
	// redelivered, once.
	if k := rep.Kill; k.Killed == nil || !strings.HasSuffix(k.Killed.Job, "@"+minerDigest.String()) || k.Redelivered != 1 {
		t.Errorf("kill run: killed %+v, %d redelivered; want a worker killed mid-scan and its job redelivered once", k.Killed, k.Redelivered)
	}
	for _, f := range []string{"gate.md", "gate.json"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Error(err)
		}
	}
}

// detectorID is the DetectorID strata's workers scan with.
func detectorID(t *testing.T) string {
	t.Helper()
	det, err := detectorFlags{signals: ptr("all"), knownSamples: ptr(""), cache: ptr("")}.detector()
	if err != nil {
		t.Fatal(err)
	}
	return det.Name() + "@" + det.Version()
}

func ptr[T any](v T) *T { return &v }

// benchImages are three small images: two clean, one miner.
func benchImages(t *testing.T) []v1.Image {
	return []v1.Image{regCleanImage(t, "amd64", ""), regCleanImage(t, "arm64", ""), regMinerImage(t, "amd64")}
}
