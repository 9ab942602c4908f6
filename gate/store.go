package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
)

// Store is the JetStream key-value bucket of verdicts, one Record per
// manifest digest.
type Store struct {
	kv jetstream.KeyValue
}

// Get returns the record of digest; found is false when there is none.
func (s *Store) Get(ctx context.Context, digest string) (rec Record, found bool, err error) {
	e, err := s.kv.Get(ctx, kvKey(digest))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("read verdict of %s: %w", digest, err)
	}
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return Record{}, false, fmt.Errorf("verdict of %s is not a strata record: %w", digest, err)
	}
	return rec, true, nil
}

// Verdict returns the decision stored for digest (an image manifest or an
// index): what the admission webhook asks before it admits a Pod.
func (s *Store) Verdict(ctx context.Context, digest string) (decision string, found bool, err error) {
	rec, found, err := s.Get(ctx, digest)
	return rec.Decision, found, err
}

// Put stores rec under its digest, replacing any earlier record.
func (s *Store) Put(ctx context.Context, rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, kvKey(rec.Digest), b); err != nil {
		return fmt.Errorf("store verdict of %s: %w", rec.Digest, err)
	}
	return nil
}

// Filter selects records in List; empty fields match everything.
type Filter struct {
	Repository string
	Decision   string
}

func (f Filter) match(r Record) bool {
	return (f.Repository == "" || f.Repository == r.Repository) && (f.Decision == "" || f.Decision == r.Decision)
}

// List returns the records f selects, ordered by digest.
func (s *Store) List(ctx context.Context, f Filter) ([]Record, error) {
	out := []Record{}
	err := s.each(ctx, func(r Record) {
		if f.match(r) {
			out = append(out, r)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out, err
}

// each calls fn with every stored record.
func (s *Store) each(ctx context.Context, fn func(Record)) error {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("list verdicts: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				return nil
			}
			var r Record
			if err := json.Unmarshal(e.Value(), &r); err != nil {
				return fmt.Errorf("verdict %s is not a strata record: %w", e.Key(), err)
			}
			fn(r)
		}
	}
}

// watch calls fn for every stored record (initial true) and then for every
// record stored later, until ctx ends.
func (s *Store) watch(ctx context.Context, fn func(r Record, initial bool)) error {
	w, err := s.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("watch verdicts: %w", err)
	}
	defer w.Stop()
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil {
				initial = false
				continue
			}
			var r Record
			if json.Unmarshal(e.Value(), &r) == nil {
				fn(r, initial)
			}
		}
	}
}
