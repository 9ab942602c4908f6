package imageref_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	dt "github.com/strata-sec/strata/detectors/detectortest"

	"github.com/strata-sec/strata/internal/imageref"
)

// hostileRegistry serves /v2/ (anonymous access) and hands every other
// request to h. Handlers that stall wait on the request's context or on the
// test's end.
func hostileRegistry(t *testing.T, h func(w http.ResponseWriter, r *http.Request, done <-chan struct{})) string {
	return hostileServer(t, func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		h(w, r, done)
	})
}

func hostileServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, done <-chan struct{})) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, done) }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	return strings.TrimPrefix(srv.URL, "http://")
}

func stall(r *http.Request, done <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-done:
	}
}

// TestRegistryHostile: a registry (or token server) that stops answering,
// drips, or redirects forever ends Open with a clear error, fast.
func TestRegistryHostile(t *testing.T) {
	short := imageref.Timeouts{Dial: time.Second, TLSHandshake: 300 * time.Millisecond, ResponseHeader: 300 * time.Millisecond,
		Progress: 300 * time.Millisecond, ProgressBytes: 1 << 10}
	var redirects atomic.Int64

	// A TCP listener that accepts and never says a word.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()

	tests := []struct {
		name    string
		host    string
		is      error
		wantErr string
	}{
		{name: "never answers", host: silent.Addr().String(), wantErr: "the registry did not answer in time"},
		{name: "headers then silence", host: hostileRegistry(t, func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Content-Length", "4000")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			stall(r, done)
		}), is: imageref.ErrStalled, wantErr: "less than 1024 bytes in 300ms"},
		{name: "drips a byte at a time", host: hostileRegistry(t, func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Content-Length", "4000")
			w.WriteHeader(http.StatusOK)
			for {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}), is: imageref.ErrStalled},
		{name: "token endpoint never answers", host: hostileServer(t, func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
			if r.URL.Path == "/token" {
				stall(r, done)
				return
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="registry.example"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
		}), wantErr: "timeout awaiting response headers"},
		{name: "redirect loop", host: hostileRegistry(t, func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
			redirects.Add(1)
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		}), is: imageref.ErrTooManyRedirects, wantErr: "stopped after 10 redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := imageref.Options{Insecure: true, Timeouts: short,
				RemoteOptions: []remote.Option{remote.WithRetryBackoff(remote.Backoff{Steps: 1})}}
			start := time.Now()
			_, err := within(t, 10*time.Second, func() ([]imageref.Target, error) { return readAll("registry:"+tt.host+"/repo:x", opts) })
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	if n := redirects.Load(); n > 2*(imageref.MaxRedirects+1) {
		t.Errorf("the redirect loop cost %d requests", n)
	}
}

// slowWriter sends a response in 512-byte pieces, pausing between them.
type slowWriter struct {
	http.ResponseWriter
	pause time.Duration
}

func (s slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 512)
		m, err := s.ResponseWriter.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		s.ResponseWriter.(http.Flusher).Flush()
		p = p[k:]
		time.Sleep(s.pause)
	}
	return n, nil
}

// TestRegistrySlowButSteady: the progress deadline cuts off a stalled body,
// not a slow one that keeps delivering: a layer that takes several
// Progress periods to arrive is read whole.
func TestRegistrySlowButSteady(t *testing.T) {
	noise := make([]byte, 8<<10)
	if _, err := rand.NewChaCha8([32]byte{1}).Read(noise); err != nil {
		t.Fatal(err)
	}
	img := dt.Image(t, v1.Config{}, dt.Run("add noise", dt.Text("etc/noise", string(noise))))
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet {
			w = slowWriter{w, 20 * time.Millisecond}
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/repo:slow"
	if err := remote.Write(mustRef(t, ref), img); err != nil {
		t.Fatal(err)
	}
	opts := imageref.Options{Insecure: true, Timeouts: imageref.Timeouts{ResponseHeader: time.Second, Progress: 100 * time.Millisecond, ProgressBytes: 1 << 10}}
	start := time.Now()
	ts, err := readAll(ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("the layer came in %s, within two Progress periods: the test does not test the deadline", d)
	}
	if len(ts) != 1 || digest(t, ts[0].Image) != digest(t, img) {
		t.Fatalf("got %d targets", len(ts))
	}
}
