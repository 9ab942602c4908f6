package imageref

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ErrStalled is returned when a registry response body stops making
// progress (see Timeouts.Progress).
var ErrStalled = errors.New("registry stopped sending data")

// ErrTooManyRedirects is returned when a registry request is redirected
// more than MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

// withDefaults fills zero fields from DefaultTimeouts.
func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	if t.Dial > 0 {
		d.Dial = t.Dial
	}
	if t.TLSHandshake > 0 {
		d.TLSHandshake = t.TLSHandshake
	}
	if t.ResponseHeader > 0 {
		d.ResponseHeader = t.ResponseHeader
	}
	if t.Progress > 0 {
		d.Progress = t.Progress
	}
	if t.ProgressBytes > 0 {
		d.ProgressBytes = t.ProgressBytes
	}
	return d
}

// newTransport is the HTTP transport for registry requests: the default
// one with every wait bounded, bodies that must keep moving, and at most
// MaxRedirects redirects (go-containerregistry's clients set their own
// CheckRedirect, which drops net/http's default cap).
func newTransport(t Timeouts, insecure bool) http.RoundTripper {
	t = t.withDefaults()
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: t.Dial, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = t.TLSHandshake
	tr.ResponseHeaderTimeout = t.ResponseHeader
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
	}
	return &boundedTransport{inner: tr, t: t}
}

type boundedTransport struct {
	inner http.RoundTripper
	t     Timeouts
}

func (b *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// http.Client sets Response on a request it makes to follow a
	// redirect; the chain of them is the redirect count.
	hops := 0
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		hops++
	}
	if hops > MaxRedirects {
		return nil, fmt.Errorf("%s %s: stopped after %d redirects: %w (the registry redirects in a loop; check its URL)", req.Method, req.URL.Redacted(), MaxRedirects, ErrTooManyRedirects)
	}
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := b.inner.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = newProgressBody(resp.Body, cancel, b.t, req)
	return resp, nil
}

// progressBody cancels its request when its reads wait a Progress period in
// total without ProgressBytes arriving; the read then fails with
// ErrStalled. Only time spent waiting inside Read counts, so a consumer
// that pauses between reads (a detector busy with a file) never trips it.
type progressBody struct {
	rc      io.ReadCloser
	cancel  context.CancelFunc
	timer   *time.Timer
	t       Timeouts
	what    string
	got     int64         // bytes in the current period
	left    time.Duration // waiting time left in the current period
	stalled atomic.Bool
}

func newProgressBody(rc io.ReadCloser, cancel context.CancelFunc, t Timeouts, req *http.Request) *progressBody {
	b := &progressBody{rc: rc, cancel: cancel, t: t, left: t.Progress, what: req.Method + " " + req.URL.Redacted()}
	b.timer = time.AfterFunc(time.Hour, func() {
		b.stalled.Store(true)
		cancel()
	})
	b.timer.Stop()
	return b
}

func (b *progressBody) Read(p []byte) (int, error) {
	start := time.Now()
	b.timer.Reset(b.left)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	if b.stalled.Load() {
		return n, fmt.Errorf("%s: less than %d bytes in %s: %w (raise the progress timeout for a slow link)", b.what, b.t.ProgressBytes, b.t.Progress, ErrStalled)
	}
	b.left -= time.Since(start)
	b.got += int64(n)
	if b.got >= b.t.ProgressBytes {
		b.got, b.left = 0, b.t.Progress
	}
	return n, err
}

func (b *progressBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}
