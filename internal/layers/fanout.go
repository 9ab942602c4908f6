package layers

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"sync"
)

// streamFan is the walk's side of streaming a layer on several cores: each
// regular file's content goes to the prereader's workers (or, above
// fanoutMaxFile, to AnalyzeContent in place), and the results reach the
// analyzer through ReplayFile, and the recorder, in entry order, as a
// sequential walk's AnalyzeFile would have; the overlay is applied as each
// header is read. The walk drains it before every issue it reports and
// every return, so issues keep their order.
type streamFan struct {
	w            *walker
	li           *LayerInfo
	rec          Recorder
	streamFailed func() bool // the layer stream failed (not the analyzer)
	q            []fanEntry  // at most fanoutMaxPending entries
	qBytes       int         // what q's headers hold, at most fanoutMaxQueueBytes
	wg           sync.WaitGroup
	wake         chan struct{}
	last         *Entry // the entry add applied last
}

type fanEntry struct {
	hdr *tar.Header
	e   *Entry   // nil: not a regular file
	job *fileJob // nil: f and err are final
	f   FileOutcome
	err error // the analyzer's
}

// newStreamFan returns nil when the walk has no workers or no analyzer.
func (w *walker) newStreamFan(li *LayerInfo, rec Recorder, streamFailed func() bool) *streamFan {
	if w.pre == nil || w.an == nil {
		return nil
	}
	return &streamFan{w: w, li: li, rec: rec, streamFailed: streamFailed, wake: make(chan struct{}, 1)}
}

// add applies hdr to the overlay and starts its file's analysis. A non-nil
// streamErr is the layer stream failing under the analyzer (f says whether
// the file was cut at MaxFileBytes first); err is the walk's context
// ending, or an analyzer error of an earlier entry.
func (s *streamFan) add(ctx context.Context, hdr *tar.Header, content io.Reader) (f FileOutcome, streamErr, err error) {
	w, o := s.w, &s.w.opts
	e := w.apply(s.li, hdr)
	s.last = e
	// Only what the overlay and a recorder read of the header is kept: a
	// PAX header can carry megabytes.
	fe := fanEntry{hdr: &tar.Header{Typeflag: hdr.Typeflag, Name: hdr.Name, Linkname: hdr.Linkname, Mode: hdr.Mode, Size: hdr.Size}, e: e}
	if e != nil {
		fe.f.Visited = true
		// The analysis gets the entry as a read ahead would: not the
		// overlay's, which the walk goes on changing.
		li := &w.pre.infos[s.li.Index]
		ae := o.regularFile(li, hdr)
		if ae == nil {
			return f, nil, fmt.Errorf("layer %d (%s) %s: the workers and the overlay disagree on whether this is a regular file", s.li.Index, s.li.DiffID, hdr.Name)
		}
		// Content analysed here, not by a worker: a large file's, or what
		// there was of one the stream cut.
		var in io.Reader
		if fe.job, in, err = w.pre.handOut(ctx, li, ae, hdr.Size, content, &s.wg, s.wake, 0); err != nil {
			return f, nil, err
		}
		if fe.job == nil && in == nil {
			in = content
		}
		if in != nil {
			c := &contentReader{r: in, limit: o.maxFileBytes, size: hdr.Size}
			fe.f.Result, fe.err = w.pre.ca.AnalyzeContent(li, ae, c)
			fe.f.Truncated = c.truncated
			if fe.err != nil && s.streamFailed() {
				return fe.f, fmt.Errorf("visit: %w", fe.err), nil
			}
		}
	}
	s.q = append(s.q, fe)
	s.qBytes += prereadEntryBytes + len(hdr.Name) + len(hdr.Linkname)
	// A file cut at MaxFileBytes reports it when drained: now, so the
	// issue comes before any the next headers' overlay reports.
	all := fe.f.Truncated
	// One slow file holds back every entry after it: the queue is bounded.
	for {
		if err := s.drain(all); err != nil {
			return f, nil, err
		}
		if len(s.q) < fanoutMaxPending && s.qBytes < fanoutMaxQueueBytes {
			return fe.f, nil, nil
		}
		select {
		case <-s.wake: // some file is done: perhaps the first
		case <-ctx.Done():
			return f, nil, ctx.Err()
		}
	}
}

// drain hands the results at the front of the queue to the analyzer and
// the recorder, in order: those already analysed, or (all) every one,
// waiting for the workers. It returns the analyzer's error as the
// sequential walk reports it.
func (s *streamFan) drain(all bool) error {
	if s == nil {
		return nil
	}
	w, li := s.w, s.li
	for len(s.q) > 0 {
		fe := &s.q[0]
		if fe.job != nil {
			for !fe.job.done.Load() {
				if !all {
					return nil
				}
				<-s.wake
			}
			fe.f.Result, fe.err = fe.job.res, fe.job.err
			fe.job = nil
		}
		if fe.e != nil {
			if fe.f.Truncated {
				w.fileLimit(li, fe.e)
			}
			err := fe.err
			if err == nil {
				err = w.an.ReplayFile(li, fe.e, fe.f.Result)
			}
			if err != nil {
				return fmt.Errorf("layer %d (%s) %s: visit: %w", li.Index, li.DiffID, fe.hdr.Name, err)
			}
		}
		if s.rec != nil {
			s.rec.Entry(fe.hdr, fe.f)
		}
		s.qBytes -= prereadEntryBytes + len(fe.hdr.Name) + len(fe.hdr.Linkname)
		s.q[0] = fanEntry{}
		s.q = s.q[1:]
	}
	return nil
}

// wait returns once no file handed out is still being analysed.
func (s *streamFan) wait() {
	if s != nil {
		s.wg.Wait()
	}
}
