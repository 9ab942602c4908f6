package main

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/strata-sec/strata/internal/testenv"
)

// TestMain lets TestScanSignal run the real main (signal handling and
// os.Exit included) in a child process of the test binary.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("STRATA_TEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"strata"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(testenv.Main(m))
}

// TestScanSignal sends SIGTERM to a scan stuck reading a layer from a
// loopback registry that never answers, and wants exit code 130 promptly.
func TestScanSignal(t *testing.T) {
	img := minerImage(t)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := layers[len(layers)-1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	hit := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+stuck.String()) {
			select {
			case hit <- struct{}{}:
			default:
			}
			<-r.Context().Done()
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/repo:miner"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STRATA_TEST_MAIN_ARGS=scan --insecure "+ref)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hit:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the scan never asked for the layer; stderr:\n%s", stderr.String())
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("exit: %v, want code 130; stderr:\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "terminated signal received: stopped") {
			t.Errorf("stderr lacks the stop message:\n%s", stderr.String())
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stopped %s after SIGTERM", d)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 10 s after SIGTERM; stderr:\n%s", stderr.String())
	}
}
