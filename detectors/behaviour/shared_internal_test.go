package behaviour

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/sandbox"
)

// TestSharedRun: callers of one image share a run; a run that failed is
// not handed to a later caller as a result, and a run ended by the leading
// caller's context is run again for a waiter whose context is live.
func TestSharedRun(t *testing.T) {
	tests := []struct {
		name      string
		leaderCtx time.Duration // 0: never cancelled
		fail      error         // what the first run returns
		wantRuns  int32
		wantErr   bool // for the second caller
	}{
		{"one run for two callers", 0, nil, 1, false},
		{"leader's context ends: the waiter runs again", 50 * time.Millisecond, nil, 2, false},
		{"a failed run fails its callers, and is not remembered", 0, errors.New("runc create: boom"), 1, true},
		// A deadline of the run's own (an HTTP client's timeout reports
		// itself as DeadlineExceeded) with every context live is a failed
		// run, not a stopped one: retrying it would loop for as long as
		// the registry keeps timing out.
		{"the run's own deadline is a failure, not retried", 0, fmt.Errorf("fetch layer: %w", context.DeadlineExceeded), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs atomic.Int32
			started := make(chan struct{}, 4)
			d := NewShared(2)
			d.sandboxRun = func(ctx context.Context, _ v1.Image, _ ...sandbox.Option) (*sandbox.Observations, error) {
				n := runs.Add(1)
				started <- struct{}{}
				if n == 1 {
					select {
					case <-ctx.Done():
						return nil, ctx.Err()
					case <-time.After(200 * time.Millisecond):
					}
					if tt.fail != nil {
						return nil, tt.fail
					}
				}
				return &sandbox.Observations{Container: "strata-test"}, nil
			}
			leaderCtx := context.Background()
			if tt.leaderCtx > 0 {
				var cancel context.CancelFunc
				leaderCtx, cancel = context.WithTimeout(leaderCtx, tt.leaderCtx)
				defer cancel()
			}
			done := make(chan error, 1)
			go func() { _, err := d.run(leaderCtx, empty.Image); done <- err }()
			<-started
			obs, err := d.run(context.Background(), empty.Image)
			<-done
			if (err != nil) != tt.wantErr || (err == nil && obs == nil) {
				t.Errorf("second caller: %v, %v; want error %v", obs, err, tt.wantErr)
			}
			if got := runs.Load(); got != tt.wantRuns {
				t.Errorf("%d runs, want %d", got, tt.wantRuns)
			}
			if tt.fail != nil {
				if _, err := d.run(context.Background(), empty.Image); err != nil || runs.Load() != 2 {
					t.Errorf("after a failed run: %v, %d runs; want a new, successful run", err, runs.Load())
				}
			}
		})
	}
}

// TestSharedRunCancelledWaitingForSlot: a caller whose context ends while
// it waits for a sandbox slot leaves no run behind, so a later caller with
// a live context runs the image instead of getting (and retrying forever)
// the cancelled caller's error; the order of remembered runs holds each
// image once.
func TestSharedRunCancelledWaitingForSlot(t *testing.T) {
	d := NewShared(1)
	var runs atomic.Int32
	d.sandboxRun = func(context.Context, v1.Image, ...sandbox.Option) (*sandbox.Observations, error) {
		runs.Add(1)
		return &sandbox.Observations{Container: "strata-test"}, nil
	}
	d.slots <- struct{}{} // the only slot is taken
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.run(ctx, empty.Image); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a slot past the deadline: %v, want DeadlineExceeded", err)
	}
	<-d.slots // the slot is free again
	done := make(chan error, 1)
	go func() { _, err := d.run(context.Background(), empty.Image); done <- err }()
	select {
	case err := <-done:
		if err != nil || runs.Load() != 1 {
			t.Errorf("later caller: %v after %d runs; want one successful run", err, runs.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("later caller never returned: the cancelled run was kept")
	}
	if len(d.order) != 1 || len(d.runs) != 1 {
		t.Errorf("order %v, runs %d; want the image once", d.order, len(d.runs))
	}
}

// TestSignalWeights: in the dynamic signal a host behaviour alone weighs
// nothing (it is evidence only); two kinds keep their weights; a stratum
// login and network findings are unaffected.
func TestSignalWeights(t *testing.T) {
	f := func(rule string, w float64) detectors.Finding { return detectors.Finding{Rule: rule, Weight: w} }
	tests := []struct {
		name string
		in   []detectors.Finding
		want []float64
	}{
		{"cpu burn alone", []detectors.Finding{f(RuleCPUBurn, 3), f(RuleProcess, 0)}, []float64{0, 0}},
		{"cpu burn and a connect", []detectors.Finding{f(RuleCPUBurn, 3), f(RuleConnect, 1)}, []float64{0, 1}},
		{"cpu burn and hugepages", []detectors.Finding{f(RuleCPUBurn, 3), f(RuleHugepages, 3)}, []float64{3, 3}},
		{"persistence twice is one kind", []detectors.Finding{f(RulePersistence, 3), f(RulePersistence, 0)}, []float64{0, 0}},
		{"a login alone", []detectors.Finding{f(RuleStratumLogin, 10), f(RuleCPUBurn, 3)}, []float64{10, 0}},
	}
	for _, tt := range tests {
		got := signalWeights(tt.in)
		var ws []float64
		for _, g := range got {
			ws = append(ws, g.Weight)
		}
		if !slices.Equal(ws, tt.want) {
			t.Errorf("%s: weights %v, want %v", tt.name, ws, tt.want)
		}
		if tt.in[0].Weight == 0 && len(tt.in) > 0 {
			t.Errorf("%s: the input was modified", tt.name)
		}
	}
}
