package main

import (
	"bytes"
	"context"
	"fmt"
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
// real docker-registry, the embedded NATS, one worker process (this test
// binary running main).
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
	imgs := map[string]bool{}
	for i, img := range benchImages(t) {
		if _, err := st.Put(img, fmt.Sprintf("t/img-%d", i), nil); err != nil {
			t.Fatal(err)
		}
		imgs[digestOf(t, img)] = true
	}
	var out, errb bytes.Buffer
	rep, err := gatebench.Run(context.Background(), gatebench.Config{Store: st.Dir(), Prefix: "t/", N: len(imgs), Workers: []int{1},
		RegistryBin: gatebench.RegistryBinary, Detector: "hierarchical@test", Timeout: time.Minute, Out: filepath.Join(dir, "out"),
		Stdout: &out, Stderr: &errb,
		Command: func(args ...string) *exec.Cmd {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), "STRATA_TEST_MAIN_ARGS="+strings.Join(args, " "))
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			return c
		}})
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(rep.Runs))
	}
	r := rep.Runs[0]
	if r.Verdicts != len(imgs) || r.Missing != 0 || r.Extra != 0 || r.Scans != len(imgs) || r.ScansPerMinute <= 0 || len(r.WorkerRSSMiB) != 1 || r.WorkerRSSMiB[0] <= 0 {
		t.Errorf("run %+v: want %d verdicts, each scanned once, a rate and a worker RSS", r, len(imgs))
	}
	if r.Decisions["malicious"] != 1 || r.Decisions["clean"] != len(imgs)-1 {
		t.Errorf("decisions %v, want 1 malicious and %d clean", r.Decisions, len(imgs)-1)
	}
	for _, f := range []string{"gate.md", "gate.json"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Error(err)
		}
	}
}

// benchImages are three small images: two clean, one miner.
func benchImages(t *testing.T) []v1.Image {
	return []v1.Image{regCleanImage(t, "amd64", ""), regCleanImage(t, "arm64", ""), regMinerImage(t, "amd64")}
}
