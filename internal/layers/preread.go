package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/semaphore"
)

// Reading layers ahead (WithParallelLayers). The walk applies layers in
// order on its own goroutine; a prereader reads later layers on others, with
// the analyzer's pure half (ContentAnalyzer), into recordings the walk then
// applies like cached layers. Everything that depends on other layers (the
// overlay, the image budgets, the analyzer's state) stays with the walk, so
// a recording either stands for exactly what streaming the layer would have
// done or is not used.

// prereadEntryBytes is what a recorded entry costs besides its name, link
// target and result: the tar.Header (224 bytes allocated) and the slice
// element (40, in a slice grown by doubling).
const prereadEntryBytes = 300

// Files of one layer are analysed on several cores too: a read ahead, and
// the walk streaming a layer (streamFan), copy each file of at most
// fanoutMaxFile bytes out of the tar stream and hand it to the
// prereader's workers, so a layer the walk reaches (the first, or an
// image's only layer) is not analysed on one core while the others wait.
// fanoutBudget bounds the content held by files handed out and not yet
// analysed, across the walk; larger files are analysed in the reading
// goroutine, streaming, as before.
// fanoutMaxPending bounds the files handed out and not yet collected of
// one read (one slow file holds back the collection of those after it).
const (
	fanoutMaxFile    = 16 << 20
	fanoutBudget     = 64 << 20
	fanoutMaxPending = 1024
	// fanoutMaxQueueBytes bounds the headers (names, link targets) the walk
	// keeps queued behind a file still being analysed.
	fanoutMaxQueueBytes = 16 << 20
)

// handOut copies a file's content out of the tar stream and hands it to
// the workers, when it is small enough (else nil, nil). When the stream
// fails inside the file, no job is made: partial yields the bytes there
// were, then the error, for an analysis in place.
func (p *prereader) handOut(ctx context.Context, li *LayerInfo, e *Entry, size int64, content io.Reader, wg *sync.WaitGroup, wake chan struct{}, idx int) (j *fileJob, partial io.Reader, err error) {
	if max := p.opts.maxFileBytes; size > fanoutMaxFile || (max > 0 && size > max) {
		return nil, nil, nil
	}
	if err := p.budget.Acquire(ctx, size); err != nil {
		return nil, nil, err
	}
	buf := make([]byte, size)
	if n, rerr := io.ReadFull(content, buf); rerr != nil {
		p.budget.Release(size)
		return nil, io.MultiReader(bytes.NewReader(buf[:n]), errReader{rerr}), nil
	}
	j = &fileJob{li: li, e: e, buf: buf, size: size, idx: idx, wg: wg, wake: wake}
	wg.Add(1)
	p.jobs <- j
	return j, nil, nil
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// fileJob is one file handed to a worker: its content, and what
// AnalyzeContent returned for it.
type fileJob struct {
	li   *LayerInfo
	e    *Entry
	buf  []byte
	size int64 // declared size, for the content reader's bound
	idx  int   // its entry in the recording
	res  []byte
	err  error
	done atomic.Bool
	wg   *sync.WaitGroup
	wake chan struct{} // the read's: a token each time one of its files is done
}

// recording is a layer read ahead: each header the tar stream yielded (only
// the fields the overlay and a layer cache use) with its file's outcome.
// Only layers read to their end within the per-layer limits and whose
// digests matched are kept, so the walk adds no issue of its own for them.
type recording struct {
	entries []recEntry
	bytes   int64 // uncompressed bytes the tar reader consumed
	diffOK  bool  // the content hashed to the config's diffID
	size    int   // memory held, bounded by prereadMaxBytes
}

type recEntry struct {
	hdr *tar.Header
	f   FileOutcome
}

type prereadState uint8

const (
	stPending prereadState = iota // may be read ahead
	stWalk                        // the walk handles it: not read ahead
	stReading
	stDropped // the walk went past it while it was being read
	stDone    // recs holds the outcome (nil: not usable)
)

type prereader struct {
	ctx    context.Context
	cancel context.CancelFunc
	ca     ContentAnalyzer
	opts   *walkOptions
	start  time.Time
	layers []v1.Layer
	infos  []LayerInfo // copies taken before the walk, for AnalyzeContent
	// tokens holds one value per recording in flight: being read, or read
	// and not yet applied. Its capacity is the parallelism.
	tokens chan struct{}
	wg     sync.WaitGroup
	// jobs feeds the file workers (fanoutBudget bytes of content at most).
	jobs    chan *fileJob
	budget  *semaphore.Weighted
	workers sync.WaitGroup

	mu    sync.Mutex
	state []prereadState
	recs  []*recording
	done  []chan struct{} // closed when a read ahead ends
	head  int             // the layer the walk is at: never claimed
}

// newPrereader starts n file workers and reading ahead the layers after
// the first that the walk will read (nil when the walk is to use one
// core). It claims the first n-1 of them before returning, so which layers
// are read ahead first does not depend on scheduling.
func newPrereader(ctx context.Context, w *walker, layers []v1.Layer, ca ContentAnalyzer) *prereader {
	n := w.opts.parallel
	if n <= 1 || len(layers) == 0 {
		return nil
	}
	p := &prereader{ca: ca, opts: &w.opts, start: w.start, layers: layers,
		infos:  append([]LayerInfo(nil), w.res.Layers...),
		tokens: make(chan struct{}, n),
		state:  make([]prereadState, len(layers)),
		recs:   make([]*recording, len(layers)),
		done:   make([]chan struct{}, len(layers)),
		jobs:   make(chan *fileJob, n),
		budget: semaphore.NewWeighted(fanoutBudget),
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
	p.workers.Add(n)
	for range n {
		go p.analyse()
	}
	prober, _ := w.src.(LayerProber)
	key := w.opts.cacheKey()
	for i := range p.state {
		li := &p.infos[i]
		p.done[i] = make(chan struct{})
		switch {
		case i == 0,
			w.opts.maxLayerBytes > 0 && li.Size > w.opts.maxLayerBytes,
			prober != nil && li.DiffID != (v1.Hash{}) && prober.HasLayer(li, key):
			p.state[i] = stWalk
		}
	}
	for range n - 1 {
		p.mu.Lock()
		j := -1
		if p.tryAcquire() {
			if j = p.claimLocked(); j < 0 {
				p.release()
			}
		}
		p.mu.Unlock()
		if j < 0 {
			break
		}
		p.wg.Add(1)
		go p.work(j)
	}
	return p
}

// work reads layer j ahead, then claims the next layer while a token is
// free, until no layer is left or the walk ends.
func (p *prereader) work(j int) {
	defer p.wg.Done()
	for {
		p.finish(j, p.read(j))
		select {
		case p.tokens <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		p.mu.Lock()
		j = p.claimLocked()
		p.mu.Unlock()
		if j < 0 {
			p.release()
			return
		}
	}
}

// claimLocked marks the first pending layer after the walk's as being read
// and returns it (-1: none). The caller holds p.mu and a token.
func (p *prereader) claimLocked() int {
	if p.ctx.Err() != nil {
		return -1
	}
	for j := p.head + 1; j < len(p.state); j++ {
		if p.state[j] == stPending {
			p.state[j] = stReading
			return j
		}
	}
	return -1
}

func (p *prereader) tryAcquire() bool {
	select {
	case p.tokens <- struct{}{}:
		return true
	default:
		return false
	}
}

func (p *prereader) release() { <-p.tokens }

// finish stores what reading layer j ahead gave; a recording the walk no
// longer wants, or none, gives its token back at once.
func (p *prereader) finish(j int, r *recording) {
	p.mu.Lock()
	keep := r != nil && p.state[j] == stReading
	if keep {
		p.recs[j] = r
	}
	p.state[j] = stDone
	close(p.done[j])
	p.mu.Unlock()
	if !keep {
		p.release()
	}
}

// take returns layer i's recording, waiting for a read ahead in progress
// (and meanwhile reading another layer ahead if a token is free), or nil
// when the walk is to read the layer itself.
func (p *prereader) take(i int) *recording {
	if p == nil {
		return nil
	}
	for {
		p.mu.Lock()
		p.head = i
		switch p.state[i] {
		case stPending, stWalk:
			p.state[i] = stWalk
			p.mu.Unlock()
			return nil
		case stDone:
			r := p.recs[i]
			p.recs[i], p.state[i] = nil, stWalk
			p.mu.Unlock()
			if r != nil {
				p.release()
			}
			return r
		}
		j := -1
		if p.tryAcquire() {
			if j = p.claimLocked(); j < 0 {
				p.release()
			}
		}
		p.mu.Unlock()
		if j >= 0 {
			p.finish(j, p.read(j))
			continue
		}
		select {
		case <-p.done[i]:
		case <-p.ctx.Done():
			return nil
		}
	}
}

// pass is called once the walk is done with layer i: a recording it did
// not use (the layer was replayed from a LayerSource, or not read) is
// dropped.
func (p *prereader) pass(i int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.head < i+1 {
		p.head = i + 1
	}
	r := p.recs[i]
	p.recs[i] = nil
	switch p.state[i] {
	case stPending:
		p.state[i] = stWalk
	case stReading:
		p.state[i] = stDropped
	}
	p.mu.Unlock()
	if r != nil {
		p.release()
	}
}

// stop ends reading ahead: the walk reads no further layer.
func (p *prereader) stop() {
	if p != nil {
		p.cancel()
	}
}

// close stops reading ahead and waits for the goroutines.
func (p *prereader) close() {
	if p != nil {
		p.cancel()
		p.wg.Wait()
		close(p.jobs)
		p.workers.Wait()
	}
}

// analyse is a file worker: it runs AnalyzeContent on the files reads hand
// out, whatever happens to the walk (a read waits for its files before it
// returns).
func (p *prereader) analyse() {
	defer p.workers.Done()
	for j := range p.jobs {
		c := &contentReader{r: bytes.NewReader(j.buf), limit: p.opts.maxFileBytes, size: j.size}
		j.res, j.err = p.ca.AnalyzeContent(j.li, j.e, c)
		if j.err == nil && c.truncated {
			j.err = errors.New("a handed-out file was cut") // cannot happen: only files within the bound are
		}
		p.budget.Release(int64(len(j.buf)))
		j.buf, j.e, j.li = nil, nil, nil
		j.done.Store(true)
		select {
		case j.wake <- struct{}{}:
		default:
		}
		j.wg.Done()
	}
}

var errPrereadLimit = errors.New("layer read ahead exceeds a byte limit")

// prereadCounter counts the uncompressed bytes the tar reader consumes, like
// countingReader, and gives up at max: a layer that large would not fit in
// the walk's byte limits anyway.
type prereadCounter struct {
	r   io.Reader
	n   int64
	max int64 // <= 0: none
	eof bool
	// The read gives up once ctx is done or past deadline (zero: none),
	// inside a file too, as the walk's countingReader does.
	ctx      context.Context
	deadline time.Time
}

func (c *prereadCounter) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil || (!c.deadline.IsZero() && time.Now().After(c.deadline)) {
		return 0, errPrereadLimit
	}
	if c.max > 0 {
		left := c.max - c.n
		if left <= 0 {
			return 0, errPrereadLimit
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n == 0 && errors.Is(err, io.EOF) {
		c.eof = true
	}
	return n, err
}

// read reads layer j as streamLayer would and returns its recording, or
// nil when any limit, error or digest mismatch would have made streaming it
// report an issue or fail: the walk then streams it and reports that.
func (p *prereader) read(j int) *recording {
	o := p.opts
	li := &p.infos[j]
	rs, err := openLayer(p.layers[j], o.maxLayerBytes)
	if err != nil {
		return nil
	}
	defer rs.Close()
	var limit int64
	for _, m := range []int64{o.maxLayerUncomp, o.maxTotalBytes} {
		if m > 0 && (limit == 0 || m < limit) {
			limit = m
		}
	}
	cr := &prereadCounter{r: rs, max: limit, ctx: p.ctx}
	if o.maxWallTime > 0 {
		cr.deadline = p.start.Add(o.maxWallTime)
	}
	pastDeadline := func() bool { return !cr.deadline.IsZero() && time.Now().After(cr.deadline) }
	tr := tar.NewReader(cr)
	r := &recording{}
	wake := make(chan struct{}, 1)
	// Files handed to the workers, in entry order; every return waits for
	// them. Finished ones are taken off the front as the read goes on, so
	// a layer of many small files does not keep a job per file.
	var handed sync.WaitGroup
	var jobs []*fileJob
	defer handed.Wait()
	failed := false
	collect := func(all bool) {
		if all {
			handed.Wait()
		}
		k := 0
		for ; k < len(jobs) && jobs[k].done.Load(); k++ {
			j := jobs[k]
			if j.err != nil {
				failed = true // the walk gets the same error from AnalyzeFile
			}
			r.entries[j.idx].f.Result = j.res
			r.size += len(j.res)
		}
		clear(jobs[:k])
		jobs = jobs[k:]
	}
	for {
		if p.ctx.Err() != nil || pastDeadline() {
			return nil
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			if cr.eof && len(r.entries) > 0 {
				return nil // cut at an entry boundary: IssueLayerTruncated
			}
			diffOK, _, _, why := rs.verify(li.DiffID, li.Digest, li.Size)
			if why != "" {
				return nil // IssueDigestMismatch
			}
			r.bytes, r.diffOK = cr.n, diffOK
			collect(true)
			if failed || pastDeadline() || (o.prereadMaxBytes > 0 && r.size > o.prereadMaxBytes) {
				return nil
			}
			return r
		}
		if err != nil {
			return nil
		}
		n := len(r.entries)
		if (o.maxEntries > 0 && n >= o.maxEntries) || (o.maxImageEntries > 0 && n >= o.maxImageEntries) {
			return nil
		}
		re := recEntry{hdr: &tar.Header{Typeflag: hdr.Typeflag, Name: hdr.Name, Linkname: hdr.Linkname,
			Mode: hdr.Mode, Size: hdr.Size}}
		e := o.regularFile(li, hdr)
		var j *fileJob
		if e != nil {
			var partial io.Reader
			if j, partial, err = p.handOut(p.ctx, li, e, hdr.Size, tr, &handed, wake, len(r.entries)); err != nil || partial != nil {
				return nil // the walk reads the same stream and reports it
			}
		}
		if j != nil {
			jobs = append(jobs, j)
			re.f = FileOutcome{Visited: true}
		} else if e != nil {
			c := &contentReader{r: tr, limit: o.maxFileBytes, size: hdr.Size}
			res, err := p.ca.AnalyzeContent(li, e, c)
			if err != nil {
				return nil // the walk gets the same error from AnalyzeFile, or the stream's
			}
			re.f = FileOutcome{Visited: true, Truncated: c.truncated, Result: res}
		}
		r.size += prereadEntryBytes + len(hdr.Name) + len(hdr.Linkname) + len(re.f.Result)
		if o.prereadMaxBytes > 0 && r.size > o.prereadMaxBytes {
			return nil
		}
		r.entries = append(r.entries, re)
		for collect(false); len(jobs) >= fanoutMaxPending && !failed; collect(false) {
			select {
			case <-wake: // some file is done: perhaps the first
			case <-p.ctx.Done():
				return nil
			}
		}
		if failed {
			return nil
		}
	}
}

// prereadFits reports whether streaming the layer would have read it to
// its end under what is left of the image budgets: the bytes as for a
// cached layer (fits), and the entries strictly below the budget, since
// streaming checks it again on every read after the last entry.
func (w *walker) prereadFits(li *LayerInfo, r *recording) bool {
	if max := w.opts.maxImageEntries; max > 0 && w.entries+len(r.entries) >= max {
		return false
	}
	return w.fits(li, r.bytes)
}

// applyRecording applies a layer read ahead as streamLayer would have
// applied it, handing each file's result to ReplayFile, and tells the
// LayerSource's recorder (if any) the same entries.
func (w *walker) applyRecording(ctx context.Context, li *LayerInfo, r *recording, rec Recorder) error {
	fail := func(err error) error {
		if rec != nil {
			rec.End(li.Bytes, nil, false)
		}
		return err
	}
	for _, re := range r.entries {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		li.Entries++
		w.entries++
		e := w.apply(li, re.hdr)
		if (e != nil) != re.f.Visited {
			return fail(fmt.Errorf("layer %d (%s) %s: read ahead and overlay disagree on whether this is a regular file", li.Index, li.DiffID, re.hdr.Name))
		}
		if e != nil && w.an != nil {
			if err := w.an.ReplayFile(li, e, re.f.Result); err != nil {
				return fail(fmt.Errorf("layer %d (%s) %s: visit: %w", li.Index, li.DiffID, re.hdr.Name, err))
			}
		}
		if e != nil && re.f.Truncated {
			w.fileLimit(li, e)
		}
		if rec != nil {
			rec.Entry(re.hdr, re.f)
		}
	}
	li.Complete = true
	li.Bytes = r.bytes
	w.total += r.bytes
	return w.endLayer(li, rec, r.diffOK)
}
