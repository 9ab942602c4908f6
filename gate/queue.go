package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream objects the gate uses.
const (
	// StreamName is the work-queue stream of scan jobs.
	StreamName = "STRATA_SCANS"
	// JobSubject is the subject jobs are published on.
	JobSubject = "strata.scan.jobs"
	// ConsumerName is the durable pull consumer every worker shares.
	ConsumerName = "strata-workers"
	// BucketName is the key-value bucket of verdicts, keyed by digest.
	BucketName = "strata_verdicts"
)

// Defaults of the queue.
const (
	// DefaultAckWait is how long a job may go without an ack or an
	// in-progress signal before JetStream hands it to another worker.
	// Workers signal progress every third of it while they scan, so only
	// a dead worker's job is redelivered.
	DefaultAckWait = 30 * time.Second
	// DefaultMaxDeliver bounds the attempts at one job; the last failed
	// one stores an error verdict.
	DefaultMaxDeliver = 5
	// DefaultDuplicateWindow is how long JetStream remembers a job's
	// message ID (digest + detector) to drop repeated notifications.
	DefaultDuplicateWindow = 10 * time.Minute
)

// Option configures Open.
type Option func(*options)

type options struct {
	ackWait    time.Duration
	maxDeliver int
	dupWindow  time.Duration
	policy     *Policy
	detector   string
	registry   string
	now        func() time.Time
}

// WithAckWait sets the consumer's AckWait (DefaultAckWait).
func WithAckWait(d time.Duration) Option { return func(o *options) { o.ackWait = d } }

// WithMaxDeliver sets the attempts per job (DefaultMaxDeliver).
func WithMaxDeliver(n int) Option { return func(o *options) { o.maxDeliver = n } }

// WithDuplicateWindow sets how long repeated jobs are dropped
// (DefaultDuplicateWindow).
func WithDuplicateWindow(d time.Duration) Option { return func(o *options) { o.dupWindow = d } }

// WithPolicy sets the per-repository policy jobs carry (default: record).
func WithPolicy(p *Policy) Option { return func(o *options) { o.policy = p } }

// WithDetector names the detector (DetectorID) whose verdicts the queue's
// jobs ask for; it is part of each job's dedup ID.
func WithDetector(id string) Option { return func(o *options) { o.detector = id } }

// WithRegistry names the registry (host:port) the gate fronts: the
// per-repository policy (quarantine) applies to its images only; a job
// for an image elsewhere (queued by the admission webhook) is recorded,
// never deleted. Without it the policy applies to every job.
func WithRegistry(host string) Option { return func(o *options) { o.registry = host } }

func newOptions(opts []Option) options {
	o := options{ackWait: DefaultAckWait, maxDeliver: DefaultMaxDeliver, dupWindow: DefaultDuplicateWindow, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Queue is the JetStream work queue of scan jobs.
type Queue struct {
	js   jetstream.JetStream
	cons jetstream.Consumer
	// exhausted reads the jobs whose attempts ran out (Open only).
	exhausted jetstream.Consumer
	o         options
}

// Open creates or updates the job stream, its shared consumer and the
// verdict bucket on nc's JetStream: what `strata serve` does at start.
func Open(ctx context.Context, nc *nats.Conn, opts ...Option) (*Queue, *Store, error) {
	o := newOptions(opts)
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, fmt.Errorf("JetStream: %w", err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "strata scan jobs (one per pushed manifest)",
		Subjects:    []string{JobSubject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  o.dupWindow,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create stream %s: %w (does the NATS server have JetStream enabled?)", StreamName, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, StreamName, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "strata workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.ackWait,
		MaxDeliver:    o.maxDeliver,
		MaxAckPending: -1,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create consumer %s: %w", ConsumerName, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketName,
		Description: "strata verdicts by manifest digest",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create bucket %s: %w", BucketName, err)
	}
	exhausted, err := openExhausted(ctx, js)
	if err != nil {
		return nil, nil, err
	}
	return &Queue{js: js, cons: cons, exhausted: exhausted, o: o}, &Store{kv: kv}, nil
}

// Bind finds the stream, consumer and bucket Open made: what `strata
// worker` does, so workers never change the queue's settings.
func Bind(ctx context.Context, nc *nats.Conn) (*Queue, *Store, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, fmt.Errorf("JetStream: %w", err)
	}
	cons, err := js.Consumer(ctx, StreamName, ConsumerName)
	if err != nil {
		return nil, nil, fmt.Errorf("find consumer %s on stream %s: %w (start strata serve against this NATS first; it creates the queue)", ConsumerName, StreamName, err)
	}
	kv, err := js.KeyValue(ctx, BucketName)
	if err != nil {
		return nil, nil, fmt.Errorf("find bucket %s: %w (start strata serve against this NATS first)", BucketName, err)
	}
	info := cons.CachedInfo()
	o := newOptions([]Option{WithAckWait(info.Config.AckWait), WithMaxDeliver(info.Config.MaxDeliver)})
	return &Queue{js: js, cons: cons, o: o}, &Store{kv: kv}, nil
}

// Enqueue queues a scan of ref, REGISTRY/REPO@sha256:..., unless the same
// digest is already queued for the same detector. The admission webhook
// calls it for an image it has no verdict for.
func (q *Queue) Enqueue(ctx context.Context, ref string) error {
	j, err := jobFor(ref)
	if err != nil {
		return err
	}
	j.Source = "admission"
	_, err = q.Submit(ctx, j)
	return err
}

// Submit queues j, filling in its policy action and time. duplicate is
// true when JetStream dropped it as a repeat of a job within the
// duplicate window.
func (q *Queue) Submit(ctx context.Context, j Job) (duplicate bool, err error) {
	if j.Action == "" {
		j.Action = ActionRecord
		if q.o.registry == "" || j.Registry == q.o.registry {
			j.Action = q.o.policy.Action(j.Repository)
		}
	}
	j.EnqueuedAt = q.o.now().UTC()
	b, err := json.Marshal(j)
	if err != nil {
		return false, err
	}
	ack, err := q.js.Publish(ctx, JobSubject, b, jetstream.WithMsgID(msgID(j, q.o.detector)))
	if err != nil {
		return false, fmt.Errorf("queue scan of %s: %w", j.Ref, err)
	}
	return ack.Duplicate, nil
}

// msgID is j's JetStream message ID: JetStream drops a job whose ID it
// has seen within the duplicate window. A job is identified by digest,
// detector and repository, so a digest is queued once per repository
// however often it is pushed there (a push of the same digest to another
// repository, whose policy may differ, is a job of its own), unless
// it carries a registry event ID: the server sets one only for a digest
// that already has a verdict (another tag, or a re-push after quarantine),
// whose job then reaches a worker that records the tag and applies the
// policy again without scanning, or scans again after a verdict that is
// not final (Record.final); a retried delivery of the same event repeats
// its ID.
func msgID(j Job, detector string) string {
	id := j.Digest + " " + detector + " " + j.Registry + "/" + j.Repository
	if j.EventID != "" {
		id += " event " + j.EventID
	}
	return id
}

// Depth is the number of jobs waiting and the number being scanned (handed
// to a worker, not yet acknowledged).
func (q *Queue) Depth(ctx context.Context) (waiting uint64, scanning int, err error) {
	info, err := q.cons.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("queue depth: %w", err)
	}
	return info.NumPending, info.NumAckPending, nil
}

// AckWait is the consumer's AckWait.
func (q *Queue) AckWait() time.Duration { return q.o.ackWait }

// next waits up to wait for one job. It returns nil, nil when none came.
func (q *Queue) next(ctx context.Context, wait time.Duration) (jetstream.Msg, error) {
	return fetchOne(ctx, q.cons, wait)
}

// fetchOne waits up to wait for one message of cons; nil, nil when none
// came.
func fetchOne(ctx context.Context, cons jetstream.Consumer, wait time.Duration) (jetstream.Msg, error) {
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := cons.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, nil
		}
		return nil, err
	}
	for m := range batch.Messages() {
		return m, nil
	}
	if err := batch.Error(); err != nil && ctx.Err() == nil && (errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}
