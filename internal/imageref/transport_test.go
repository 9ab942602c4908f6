package imageref

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// slowReader waits before each read: a registry link that is slow (or
// stalled, with a long wait).
type slowReader struct {
	r    io.Reader
	wait time.Duration
	ctx  context.Context
}

func (s slowReader) Read(p []byte) (int, error) {
	select {
	case <-time.After(s.wait):
	case <-s.ctx.Done():
		return 0, s.ctx.Err()
	}
	return s.r.Read(p[:min(len(p), 4)])
}

// TestProgressBody: only time spent waiting inside Read counts against the
// progress deadline; a consumer pausing between reads does not.
func TestProgressBody(t *testing.T) {
	tm := Timeouts{Progress: 100 * time.Millisecond, ProgressBytes: 8}
	tests := []struct {
		name    string
		wait    time.Duration // per Read, inside the body
		pause   time.Duration // between Reads, in the consumer
		wantErr error
	}{
		{name: "fast body, slow consumer", pause: 120 * time.Millisecond},
		{name: "steady body", wait: 20 * time.Millisecond},
		{name: "dripping body", wait: 60 * time.Millisecond, wantErr: ErrStalled},
		{name: "silent body", wait: time.Hour, wantErr: ErrStalled},
	}
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// 4 bytes per read, 8 bytes per period: two reads per period.
			body := io.NopCloser(slowReader{r: strings.NewReader(strings.Repeat("x", 16)), wait: tt.wait, ctx: ctx})
			b := newProgressBody(body, cancel, tm, req)
			defer b.Close()
			var err error
			for err == nil {
				time.Sleep(tt.pause)
				_, err = b.Read(make([]byte, 64))
			}
			if err == io.EOF {
				err = nil
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
