package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultAddr is where experiment builds expect the server. It is fixed
// because the URL is part of RUN commands, hence of image history and
// digests: a different port would change every digest.
const DefaultAddr = "127.0.0.1:18473"

// Server is a running loopback file server.
type Server struct {
	URL      string
	srv      *http.Server
	ln       net.Listener
	requests atomic.Int64
}

// Serve serves the directory root on addr, which must be a loopback
// address ("127.0.0.1:0" picks a free port).
func Serve(root, addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("loopback address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("refusing to serve on %q: only loopback addresses are allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another strata run using it? stop it or pass another --serve-addr; digests will then differ from the committed ones)", addr, err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln}
	fs := http.FileServer(http.Dir(root))
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.requests.Add(1)
			fs.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Requests counts the requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
