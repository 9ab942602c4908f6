package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/strata-sec/strata/internal/scanreport"
)

// Names of the JetStream objects that catch jobs whose attempts ran out.
const (
	// ExhaustedStreamName keeps JetStream's max-deliveries advisories of
	// the job consumer: a job delivered MaxDeliver times without an ack
	// (its workers died, or were stopped mid-scan, on every attempt) is
	// no longer delivered, and the advisory is the only trace of it. The
	// stream keeps the advisory until a strata serve has stored an error
	// verdict for the job, even if none was running when it was published.
	ExhaustedStreamName = "STRATA_SCANS_EXHAUSTED"
	// ExhaustedConsumerName is the durable consumer strata serve reads
	// those advisories with.
	ExhaustedConsumerName = "strata-serve-exhausted"
)

// exhaustedSubject is the subject of the job consumer's max-deliveries
// advisories (nats-server's JSAdvisoryConsumerMaxDeliveryExceedPre).
const exhaustedSubject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + StreamName + "." + ConsumerName

// exhaustedAdvisory is the part of the advisory the gate reads
// (io.nats.jetstream.advisory.v1.max_deliver).
type exhaustedAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// openExhausted creates the advisory stream and its consumer.
func openExhausted(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        ExhaustedStreamName,
		Description: "max-deliveries advisories of strata scan jobs (each becomes an error verdict)",
		Subjects:    []string{exhaustedSubject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", ExhaustedStreamName, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, ExhaustedStreamName, jetstream.ConsumerConfig{
		Durable:     ExhaustedConsumerName,
		Description: "strata serve: error verdicts for exhausted jobs",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", ExhaustedConsumerName, err)
	}
	return cons, nil
}

// FailExhausted stores an error verdict for every job whose deliveries ran
// out without a verdict, until ctx ends: no pushed image is left without
// one. `strata serve` runs it; with several serve processes on one NATS,
// each advisory goes to one of them.
func (s *Server) FailExhausted(ctx context.Context) error {
	if s.q.exhausted == nil {
		return fmt.Errorf("this queue was bound by a worker (gate.Bind): open it with gate.Open to handle exhausted jobs")
	}
	for ctx.Err() == nil {
		m, err := s.q.nextExhausted(ctx, 5*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(s.log, "serve: reading exhausted jobs: %v (retrying)\n", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if m == nil {
			continue
		}
		if err := s.q.failExhausted(ctx, s.s, m.Data()); err != nil {
			fmt.Fprintf(s.log, "serve: %v (retrying)\n", err)
			_ = m.NakWithDelay(time.Second)
			continue
		}
		_ = m.Ack()
	}
	return nil
}

// nextExhausted waits up to wait for one advisory; nil, nil when none came.
func (q *Queue) nextExhausted(ctx context.Context, wait time.Duration) (jetstream.Msg, error) {
	return fetchOne(ctx, q.exhausted, wait)
}

// failExhausted handles one advisory: unless the job's digest has a
// verdict of the queue's detector (the last attempt stored it and died
// before its ack), it stores an error verdict; then it removes the job
// from the work queue, where an unacknowledged job would stay forever.
func (q *Queue) failExhausted(ctx context.Context, s *Store, data []byte) error {
	var a exhaustedAdvisory
	if err := json.Unmarshal(data, &a); err != nil || a.StreamSeq == 0 {
		return nil // not an advisory of ours: nothing to do
	}
	stream, err := q.js.Stream(ctx, StreamName)
	if err != nil {
		return fmt.Errorf("exhausted job %d: %w", a.StreamSeq, err)
	}
	raw, err := stream.GetMsg(ctx, a.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil // acknowledged after all, or removed by hand
	}
	if err != nil {
		return fmt.Errorf("exhausted job %d: %w", a.StreamSeq, err)
	}
	var j Job
	if err := json.Unmarshal(raw.Data, &j); err != nil || j.Digest == "" {
		return q.dropJob(ctx, stream, a.StreamSeq)
	}
	rec, found, err := s.Get(ctx, j.Digest)
	if err != nil {
		return err
	}
	if !found || rec.Error != "" || rec.detectorID() != q.o.detector {
		name, version, _ := strings.Cut(q.o.detector, "@")
		now := q.o.now().UTC()
		rec = Record{Digest: j.Digest, Registry: j.Registry, Repository: j.Repository, Tags: addTag(rec.Tags, j.Tag),
			Decision: DecisionError, Detector: scanreport.DetectorInfo{Name: name, Version: version},
			EnqueuedAt: j.EnqueuedAt, ScannedAt: now, Worker: "strata serve", Attempts: int(a.Deliveries), Action: j.Action,
			Error: fmt.Sprintf("no worker finished this job in %d attempts (each died or was stopped mid-scan); push the image again to rescan it", a.Deliveries)}
		if err := s.Put(ctx, rec); err != nil {
			return err
		}
	}
	return q.dropJob(ctx, stream, a.StreamSeq)
}

func (q *Queue) dropJob(ctx context.Context, stream jetstream.Stream, seq uint64) error {
	if err := stream.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("remove exhausted job %d: %w", seq, err)
	}
	return nil
}
