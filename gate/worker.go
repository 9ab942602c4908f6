package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/scanreport"
)

// Worker takes jobs off the queue one at a time, scans the manifest they
// name by pulling it from the registry, stores the verdict, applies the
// job's policy and only then acknowledges the job. A worker that dies
// mid-scan never acknowledges, so JetStream hands the job to another
// worker once AckWait passes without a progress signal.
type Worker struct {
	q   *Queue
	s   *Store
	det detectors.Detector
	o   workerOptions
}

// WorkerOption configures NewWorker.
type WorkerOption func(*workerOptions)

type workerOptions struct {
	id       string
	insecure bool
	log      io.Writer
	poll     time.Duration
	timeouts imageref.Timeouts
	// scanTimeout bounds one job (DefaultScanTimeout).
	scanTimeout time.Duration
	now         func() time.Time
}

// DefaultScanTimeout bounds one job: a registry that feeds a layer a few
// bytes at a time must not hold a worker (and every job queued behind it)
// for days.
const DefaultScanTimeout = 10 * time.Minute

// WithScanTimeout bounds each job to d (DefaultScanTimeout); a job that
// takes longer gets an "error" verdict at once, which the admission
// webhook treats as not checked.
func WithScanTimeout(d time.Duration) WorkerOption {
	return func(o *workerOptions) { o.scanTimeout = d }
}

// WithWorkerID names the worker in its records (default: host name and
// process ID).
func WithWorkerID(id string) WorkerOption { return func(o *workerOptions) { o.id = id } }

// WithInsecure lets the worker pull from and delete on plain-HTTP or
// self-signed registries.
func WithInsecure(b bool) WorkerOption { return func(o *workerOptions) { o.insecure = b } }

// WithLog makes the worker write one line per job event to w.
func WithLog(w io.Writer) WorkerOption { return func(o *workerOptions) { o.log = w } }

// WithTimeouts bounds registry requests (imageref.DefaultTimeouts).
func WithTimeouts(t imageref.Timeouts) WorkerOption {
	return func(o *workerOptions) { o.timeouts = t }
}

// NewWorker makes a worker scanning with det.
func NewWorker(q *Queue, s *Store, det detectors.Detector, opts ...WorkerOption) *Worker {
	host, _ := os.Hostname()
	o := workerOptions{id: fmt.Sprintf("%s/%d", host, os.Getpid()), log: io.Discard, poll: 5 * time.Second, scanTimeout: DefaultScanTimeout, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return &Worker{q: q, s: s, det: det, o: o}
}

// ID is the worker's name in its records.
func (w *Worker) ID() string { return w.o.id }

// Run processes jobs until ctx ends. A job being scanned when ctx ends is
// handed back to the queue at once.
func (w *Worker) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		m, err := w.q.next(ctx, w.o.poll)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			w.logf("fetch a job: %v (retrying)", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if m != nil {
			w.handle(ctx, m)
		}
	}
	return nil
}

func (w *Worker) logf(format string, args ...any) {
	fmt.Fprintf(w.o.log, "worker %s: "+format+"\n", append([]any{w.o.id}, args...)...)
}

// handle runs one job to its acknowledgement (or hands it back).
func (w *Worker) handle(ctx context.Context, m jetstream.Msg) {
	attempt := 1
	if meta, err := m.Metadata(); err == nil {
		attempt = int(meta.NumDelivered)
	}
	var j Job
	if err := json.Unmarshal(m.Data(), &j); err != nil || j.Digest == "" {
		w.logf("dropping a job that is not a strata job: %v", err)
		_ = m.Term()
		return
	}
	stop := w.heartbeat(m)
	defer stop()
	w.logf("scanning %s (attempt %d)", j.Ref, attempt)
	jctx, cancel := context.WithTimeout(ctx, w.o.scanTimeout)
	rec, err := w.process(jctx, j, attempt)
	timedOut := err != nil && ctx.Err() == nil && errors.Is(jctx.Err(), context.DeadlineExceeded)
	cancel()
	if timedOut {
		err = fmt.Errorf("the scan took longer than %s (scan timeout); not retried: %w", w.o.scanTimeout, err)
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			_ = m.Nak()
			w.logf("stopped; %s goes back to the queue", j.Ref)
			return
		case attempt < w.q.o.maxDeliver && !timedOut:
			delay := time.Duration(attempt) * 2 * time.Second
			w.logf("%s: %v (retry in %s)", j.Ref, err, delay)
			_ = m.NakWithDelay(delay)
			return
		}
		rec = w.record(j, attempt, w.o.now())
		rec.Decision, rec.Error = DecisionError, err.Error()
		if perr := w.s.Put(ctx, rec); perr != nil {
			w.logf("%s: %v; and storing the error failed: %v", j.Ref, err, perr)
			_ = m.Nak()
			return
		}
	}
	if err := m.DoubleAck(ctx); err != nil {
		// The verdict is stored: a redelivery finds it and only acks.
		w.logf("ack %s: %v", j.Ref, err)
	}
	w.logf("%s: %s", j.Ref, rec.Decision)
}

// heartbeat tells JetStream the job is still being worked on, three times
// per AckWait, until the returned stop is called.
func (w *Worker) heartbeat(m jetstream.Msg) (stop func()) {
	every := w.q.o.ackWait / 3
	if every < 100*time.Millisecond {
		every = 100 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// record starts the record of j's manifest.
func (w *Worker) record(j Job, attempt int, start time.Time) Record {
	return Record{Digest: j.Digest, Registry: j.Registry, Repository: j.Repository, Tags: addTag(nil, j.Tag),
		Detector:   scanreport.DetectorInfo{Name: w.det.Name(), Version: w.det.Version()},
		EnqueuedAt: j.EnqueuedAt, ScannedAt: w.o.now().UTC(), QueueSeconds: start.Sub(j.EnqueuedAt).Seconds(),
		Worker: w.o.id, Attempts: attempt, Action: j.Action}
}

// current reports whether rec is a final verdict of this worker's
// detector, one a scan would only repeat.
func (w *Worker) current(rec Record, found bool) bool {
	return found && rec.final() && rec.detectorID() == DetectorID(w.det.Name(), w.det.Version())
}

// process scans j's manifest (each platform of an index), stores the
// records and applies the policy. A manifest with a current verdict is
// not scanned again: its record gains the job's tag, and the policy is
// applied again (a re-pushed quarantined image is deleted again).
func (w *Worker) process(ctx context.Context, j Job, attempt int) (Record, error) {
	start := w.o.now()
	old, found, err := w.s.Get(ctx, j.Digest)
	if err != nil {
		return Record{}, err
	}
	if w.current(old, found) {
		rec := old
		rec.Tags = addTag(append([]string(nil), old.Tags...), j.Tag)
		changed := len(rec.Tags) != len(old.Tags)
		if rec.Decision == string(detectors.Malicious) && j.Action == ActionQuarantine {
			rec.Action = j.Action
			w.quarantine(ctx, j, &rec, w.maliciousChildren(ctx, rec))
			changed = true
		}
		if changed {
			return rec, w.s.Put(ctx, rec)
		}
		return rec, nil
	}
	targets, err := imageref.Open(ctx, imageref.PrefixRegistry+j.Ref, imageref.Options{Insecure: w.o.insecure, Timeouts: w.o.timeouts})
	if err != nil {
		return Record{}, err
	}
	var top Record
	var children []Record
	index := false
	for _, t := range targets {
		d, err := t.Image.Digest()
		if err != nil {
			return Record{}, fmt.Errorf("%s: %w", j.Ref, err)
		}
		if d.String() != j.Digest {
			index = true
			if r, ok, err := w.s.Get(ctx, d.String()); err == nil && w.current(r, ok) {
				children = append(children, r)
				continue
			}
		}
		t0 := w.o.now()
		st, err := scanreport.ScanTarget(ctx, w.det, t)
		if err != nil {
			return Record{}, err
		}
		rec := w.record(j, attempt, start)
		rec.Digest, rec.Platform, rec.Target = st.ManifestDigest, st.Platform, &st
		rec.Decision, rec.Score, rec.Threshold = st.Decision, st.Score, st.Threshold
		rec.ScanSeconds = w.o.now().Sub(t0).Seconds()
		if d.String() == j.Digest {
			if found {
				rec.Tags = addTag(append([]string(nil), old.Tags...), j.Tag)
			}
			top = rec
			continue
		}
		rec.Tags = nil
		children = append(children, rec)
	}
	var bad []string
	if index {
		top = w.record(j, attempt, start)
		top.Index, top.Decision = true, string(detectors.Clean)
		if found {
			top.Tags = addTag(append([]string(nil), old.Tags...), j.Tag)
		}
		for _, c := range children {
			top.Children = append(top.Children, c.Digest)
			top.ScanSeconds += c.ScanSeconds
			if severity(c.Decision) > severity(top.Decision) {
				top.Decision = c.Decision
			}
			if c.Score > top.Score {
				top.Score, top.Threshold = c.Score, c.Threshold
			}
			if c.Decision == string(detectors.Malicious) {
				bad = append(bad, c.Digest)
			}
		}
	}
	if top.Decision == string(detectors.Malicious) && j.Action == ActionQuarantine {
		w.quarantine(ctx, j, &top, bad)
	}
	// Children first: the top record is what admission asks for, so its
	// presence means the whole manifest is done.
	for _, c := range children {
		if err := w.s.Put(ctx, c); err != nil {
			return Record{}, err
		}
	}
	return top, w.s.Put(ctx, top)
}

// maliciousChildren lists rec's platform images judged malicious.
func (w *Worker) maliciousChildren(ctx context.Context, rec Record) []string {
	var bad []string
	for _, d := range rec.Children {
		if c, ok, err := w.s.Get(ctx, d); err == nil && ok && c.Decision == string(detectors.Malicious) {
			bad = append(bad, d)
		}
	}
	return bad
}

// quarantine deletes j's manifest and then the malicious platform
// manifests of an index (so they cannot be pulled by digest either)
// through the registry API, and records what it did. A manifest already
// gone counts as deleted.
func (w *Worker) quarantine(ctx context.Context, j Job, rec *Record, children []string) {
	q := &Quarantine{At: w.o.now().UTC()}
	var nopts []name.Option
	if w.o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	var errs []error
	for _, d := range append([]string{j.Digest}, children...) {
		ref, err := name.NewDigest(j.Registry+"/"+j.Repository+"@"+d, nopts...)
		if err == nil {
			err = remote.Delete(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
		}
		var terr *transport.Error
		if err != nil && !(errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound) {
			errs = append(errs, fmt.Errorf("delete %s: %w", d, err))
			continue
		}
		q.Deleted = append(q.Deleted, d)
	}
	if err := errors.Join(errs...); err != nil {
		q.Error = err.Error() + " (does the registry allow deletes? docker-registry needs storage.delete.enabled: true)"
		w.logf("quarantine %s: %s", j.Ref, q.Error)
	} else {
		w.logf("quarantined %s", j.Ref)
	}
	rec.Quarantine = q
}
