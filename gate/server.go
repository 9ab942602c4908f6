package gate

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Server is the gate's HTTP API:
//
//	POST /v1/notifications     the registry's notification endpoint (bearer token)
//	GET  /v1/verdicts/{digest} one verdict (404 when none)
//	GET  /v1/verdicts          every verdict; ?repository= and ?decision= filter
//	GET  /metrics              Prometheus text format
//	GET  /healthz              200 while NATS answers
//
// Further handlers (the admission webhook at POST /v1/admission) are
// mounted with Handle.
type Server struct {
	q     *Queue
	s     *Store
	token string
	m     *metrics
	mux   *http.ServeMux
	log   io.Writer
	// fronted is the registry (host:port) whose notifications this
	// server takes; jobs always name it (FrontRegistry).
	fronted atomic.Value
}

// FrontRegistry sets the registry (host:port, as the workers reach it)
// whose notifications the server takes. Every notification job names it:
// the host an event names comes from the pushing client's Host header,
// so trusting it would let a pusher send the worker (and a quarantine
// DELETE) to any host. Until it is set, notifications are refused.
func (s *Server) FrontRegistry(host string) { s.fronted.Store(host) }

func (s *Server) frontedRegistry() string {
	h, _ := s.fronted.Load().(string)
	return h
}

// NewServer serves q and s. Notifications must carry "Authorization:
// Bearer TOKEN"; token must not be empty. log gets one line per
// notification request that enqueued or failed something (nil: none).
func NewServer(q *Queue, s *Store, token string, log io.Writer) (*Server, error) {
	if token == "" {
		return nil, fmt.Errorf("the notification endpoint needs a shared bearer token: set one (and the same in the registry's notifications.endpoints headers)")
	}
	if log == nil {
		log = io.Discard
	}
	srv := &Server{q: q, s: s, token: token, m: newMetrics(), mux: http.NewServeMux(), log: log}
	srv.mux.HandleFunc("POST /v1/notifications", srv.notifications)
	srv.mux.HandleFunc("GET /v1/verdicts/{digest}", srv.verdict)
	srv.mux.HandleFunc("GET /v1/verdicts", srv.verdicts)
	srv.mux.HandleFunc("GET /metrics", srv.metrics)
	srv.mux.HandleFunc("GET /healthz", srv.healthz)
	return srv, nil
}

// Handle mounts h at pattern (http.ServeMux syntax), e.g. the admission
// webhook at "POST /v1/admission".
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Watch follows the verdict bucket to keep the metrics current, until ctx
// ends; when the watch breaks (NATS restarting) it starts again.
func (s *Server) Watch(ctx context.Context) error {
	for {
		err := s.s.watch(ctx, s.m.stored)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		if err != nil {
			fmt.Fprintf(s.log, "serve: watching verdicts: %v (retrying)\n", err)
		}
	}
}

func (s *Server) notifications(w http.ResponseWriter, r *http.Request) {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
		http.Error(w, "missing or wrong bearer token: set the registry endpoint's Authorization header to the token strata serve was given", http.StatusUnauthorized)
		return
	}
	reg := s.frontedRegistry()
	if reg == "" {
		http.Error(w, "this gate fronts no registry yet: start strata serve with --registry HOST:PORT", http.StatusServiceUnavailable)
		return
	}
	env, err := readEnvelope(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var failed []string
	enqueued := 0
	for _, e := range env.Events {
		j, ok := jobOf(e, reg)
		if !ok {
			s.m.notified(eventIgnored)
			continue
		}
		if !s.seen(r.Context(), j.Digest) {
			// Not judged yet: every push of the digest to this
			// repository (other tags, concurrent pushes) is one job,
			// deduplicated by digest, detector and repository (msgID).
			// A push to another repository is a job of its own, so its
			// policy applies; it is scanned once all the same unless two
			// workers take both jobs at the same moment, because a worker
			// never scans a digest that has a verdict of its detector.
			j.EventID = ""
		}
		dup, err := s.q.Submit(r.Context(), j)
		switch {
		case err != nil:
			s.m.notified(eventFailed)
			failed = append(failed, err.Error())
		case dup:
			s.m.notified(eventDuplicate)
		default:
			s.m.notified(eventEnqueued)
			enqueued++
			fmt.Fprintf(s.log, "serve: queued %s (tag %q, action %s)\n", j.Ref, j.Tag, s.q.o.policy.Action(j.Repository))
		}
	}
	if len(failed) > 0 {
		// The registry retries the whole batch; repeats of the events that
		// did get queued are dropped as duplicates.
		fmt.Fprintf(s.log, "serve: %d events not queued: %s\n", len(failed), strings.Join(failed, "; "))
		http.Error(w, "queue unavailable: "+strings.Join(failed, "; "), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// seen reports whether digest has a verdict of the queue's detector. A
// push of such a digest is queued as its own event: for a verdict a worker
// adds the tag and applies the policy again, without scanning (that is how
// a quarantined image pushed again is deleted again); for a verdict that
// is not final (an error: its fetch failed or every attempt died; an
// invalid one from bytes the registry served, Record.final) it scans again.
func (s *Server) seen(ctx context.Context, digest string) bool {
	rec, found, err := s.s.Get(ctx, digest)
	return err == nil && found && rec.detectorID() == s.q.o.detector
}

func (s *Server) verdict(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	rec, found, err := s.s.Get(r.Context(), d)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case !found:
		http.Error(w, "no verdict for "+d+" (not pushed since the gate started, or still queued)", http.StatusNotFound)
	default:
		writeJSON(w, rec)
	}
}

func (s *Server) verdicts(w http.ResponseWriter, r *http.Request) {
	f := Filter{Repository: r.URL.Query().Get("repository"), Decision: r.URL.Query().Get("decision")}
	recs, err := s.s.List(r.Context(), f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, struct {
		Verdicts []Record `json:"verdicts"`
	}{recs})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	waiting, scanning, err := s.q.Depth(ctx)
	wf, sf := float64(waiting), float64(scanning)
	if err != nil {
		wf, sf = -1, -1
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.m.write(w, wf, sf)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, _, err := s.q.Depth(ctx); err != nil {
		http.Error(w, "NATS: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
