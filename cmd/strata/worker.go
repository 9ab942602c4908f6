package main

import (
	"context"
	"fmt"
	"io"

	"github.com/strata-sec/strata/gate"
)

func init() {
	register("worker", command{
		summary: "scan jobs from a strata serve queue on NATS JetStream (run any number, on any machine that reaches NATS and the registry)",
		run:     runWorker,
	})
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("worker", "", stderr)
	natsURL := fs.String("nats", "", "the NATS server or cluster strata serve uses (its 'NATS on' line), e.g. nats://10.0.0.5:4222")
	id := fs.String("id", "", "this worker's name in the verdicts it stores (default: host/pid)")
	df := addDetectorFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *natsURL == "" {
		fs.Usage()
		return fmt.Errorf("give the queue's NATS URL, e.g. strata worker --nats nats://127.0.0.1:4222")
	}
	if *id == "" {
		*id = defaultWorkerID()
	}
	det, err := df.detector()
	if err != nil {
		return err
	}
	nc, err := gate.Connect(*natsURL, "strata worker "+*id)
	if err != nil {
		return err
	}
	defer nc.Close()
	q, s, err := gate.Bind(ctx, nc)
	if err != nil {
		return err
	}
	wait := df.workers(ctx, det, q, s, 1, *id, stderr)
	fmt.Fprintf(stderr, "strata worker %s: taking jobs from %s\n", *id, *natsURL)
	<-ctx.Done()
	wait()
	return nil
}
