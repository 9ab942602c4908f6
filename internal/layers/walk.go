package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Walk streams the layers of img bottom-up, applies them to a filesystem view
// and calls visit (which may be nil) for every regular file. Layers are read
// once, as uncompressed tar streams, never held in memory or written to disk.
func Walk(ctx context.Context, img v1.Image, visit VisitFunc, opts ...WalkOption) (*Result, error) {
	var a FileAnalyzer
	if visit != nil {
		a = visitAnalyzer(visit)
	}
	return WalkAnalyzer(ctx, img, a, opts...)
}

// WalkAnalyzer is Walk for a FileAnalyzer (nil: none). When a implements
// LayerSource (a layer cache wrapped around the analyzer), layers it has a
// recording of are replayed without opening their blobs, and the Result
// and the analyzer calls are the same as for a walk that reads them. When a
// implements LayerAnalyzer, it also analyses each layer as a whole.
func WalkAnalyzer(ctx context.Context, img v1.Image, a FileAnalyzer, opts ...WalkOption) (*Result, error) {
	o := defaultWalkOptions()
	for _, opt := range opts {
		opt(&o)
	}
	cf, err := readConfig(img, o.maxConfigBytes)
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list image layers: %w", err)
	}
	w := &walker{
		opts:     o,
		start:    time.Now(),
		an:       a,
		children: map[string]map[string]struct{}{},
		res:      &Result{Files: map[string]*Entry{}, Config: cf},
	}
	w.src, _ = a.(LayerSource)
	w.la, _ = a.(LayerAnalyzer)
	var issues []Issue
	if w.res.Layers, issues, err = describeLayers(img, cf, layers); err != nil {
		return nil, err
	}
	w.res.Issues = append(w.res.Issues, issues...)
	w.alignHistory(cf)
	if ca, ok := a.(ContentAnalyzer); ok {
		w.pre = newPrereader(ctx, w, layers, ca)
		defer w.pre.close()
	}

	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		li := &w.res.Layers[i]
		if err := w.walkLayer(ctx, li, l); err != nil {
			return nil, err
		}
		w.pre.pass(i)
		if w.stop != nil {
			w.pre.stop()
		}
		sort.Slice(li.Changes.Removed, func(a, b int) bool {
			return li.Changes.Removed[a].Path < li.Changes.Removed[b].Path
		})
	}
	w.res.Bytes = w.total
	return w.res, nil
}

// readConfig reads the config, refusing one larger than max (declared in the
// manifest, or read).
func readConfig(img v1.Image, max int64) (*v1.ConfigFile, error) {
	if max > 0 {
		if m, err := img.Manifest(); err == nil && m.Config.Size > max {
			return nil, fmt.Errorf("read image config: manifest declares %d bytes, more than the %d read", m.Config.Size, max)
		}
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	if max > 0 && int64(len(raw)) > max {
		return nil, fmt.Errorf("read image config: %d bytes, more than the %d read", len(raw), max)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	return cf, nil
}

// describeLayers takes digests, sizes and media types from the manifest and
// diffIDs from the config, as a runtime does. It never asks a layer for its
// diffID: for blobs that do not know it (OCI layouts, registries) that
// decompresses and hashes the whole blob, once per listing of the layer, so
// a gzip bomb listed 30 times would be inflated 30 times before the walk
// and its budgets start. A config whose rootfs.diff_ids does not name
// every layer is an integrity error (IssueDiffIDMissing) on each layer
// left without one; those layers are read, not verified and not cached.
func describeLayers(img v1.Image, cf *v1.ConfigFile, layers []v1.Layer) ([]LayerInfo, []Issue, error) {
	out := make([]LayerInfo, len(layers))
	var issues []Issue
	var descs []v1.Descriptor
	if m, err := img.Manifest(); err == nil && len(m.Layers) == len(layers) {
		descs = m.Layers
	}
	diffIDs := cf.RootFS.DiffIDs
	for i, l := range layers {
		li := LayerInfo{Index: i, HistoryIndex: NoLayer}
		var err error
		if len(diffIDs) == len(layers) {
			li.DiffID = diffIDs[i]
		} else {
			issues = append(issues, Issue{Kind: IssueDiffIDMissing, Layer: i,
				Detail: fmt.Sprintf("the config's rootfs.diff_ids names %d layers, the image has %d: this layer's content cannot be verified; rebuild or re-export the image", len(diffIDs), len(layers))})
		}
		if descs != nil {
			li.Digest, li.Size, li.MediaType = descs[i].Digest, descs[i].Size, descs[i].MediaType
		} else {
			if li.Digest, err = l.Digest(); err != nil {
				return nil, nil, fmt.Errorf("layer %d digest: %w", i, err)
			}
			if li.Size, err = l.Size(); err != nil {
				return nil, nil, fmt.Errorf("layer %d size: %w", i, err)
			}
			// Media type is informational; some in-memory layers do not know it.
			if mt, err := l.MediaType(); err == nil {
				li.MediaType = mt
			}
		}
		out[i] = li
	}
	return out, issues, nil
}

type walker struct {
	opts walkOptions
	an   FileAnalyzer
	la   LayerAnalyzer // an, if it analyses whole layers
	src  LayerSource   // an, if it can replay layers
	pre  *prereader    // reads layers ahead (nil: none)
	res  *Result
	// children indexes every path ever added by its parent directory so a
	// whiteout or opaque directory touches only its own subtree.
	children map[string]map[string]struct{}
	// hid are the directories hideBelow processed in layer hidLayer;
	// hideWork counts the paths it visited (a test pins it linear).
	hid      map[string]struct{}
	hidLayer int
	hideWork int
	total    int64
	entries  int // tar entries applied over the image
	start    time.Time
	// stop is the image budget that ended the walk (nil: none): later
	// layers are not read, each gets an issue of its kind.
	stop *limitError
}

// imageBudget returns the image budget that is exhausted (nil: none):
// bytes read, entries applied, wall time.
func (w *walker) imageBudget() *limitError {
	o := &w.opts
	switch {
	case w.stop != nil:
		return w.stop
	case o.maxTotalBytes > 0 && w.total >= o.maxTotalBytes:
		return &limitError{kind: IssueTotalLimit, image: true,
			detail: fmt.Sprintf("image exceeds %d uncompressed bytes (WithMaxTotalBytes)", o.maxTotalBytes)}
	case o.maxImageEntries > 0 && w.entries >= o.maxImageEntries:
		return &limitError{kind: IssueImageEntryLimit, image: true,
			detail: fmt.Sprintf("image has more than %d entries (WithMaxImageEntries)", o.maxImageEntries)}
	case o.maxWallTime > 0 && time.Since(w.start) > o.maxWallTime:
		return &limitError{kind: IssueWallTimeLimit, image: true,
			detail: fmt.Sprintf("walk took longer than %s (WithMaxWallTime)", o.maxWallTime)}
	}
	return nil
}

// stopImage records that an image budget ended the walk in layer i.
func (w *walker) stopImage(i int, le *limitError) {
	w.stop = le
	w.issue(Issue{Kind: le.kind, Layer: i, Detail: le.detail + "; the rest of this layer and all later layers were not scanned"})
}

func (w *walker) issue(is Issue) { w.res.Issues = append(w.res.Issues, is) }

// walkLayer applies one layer: skipped once the image exceeded
// MaxTotalBytes or when its descriptor exceeds MaxLayerBytes, replayed when
// the LayerSource has a recording that fits in what is left of the byte
// limits (so they would not have cut it), applied from a read ahead
// (preread.go) under the same condition, streamed from the blob otherwise.
func (w *walker) walkLayer(ctx context.Context, li *LayerInfo, l v1.Layer) error {
	// A cancelled walk opens no further layer.
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.stop != nil {
		w.issue(Issue{Kind: w.stop.kind, Layer: li.Index, Detail: "layer not read: " + w.stop.detail})
		return w.endLayer(li, nil, false)
	}
	if le := w.imageBudget(); le != nil {
		w.stop = le
		w.issue(Issue{Kind: le.kind, Layer: li.Index, Detail: "layer not read: " + le.detail})
		return w.endLayer(li, nil, false)
	}
	if max := w.opts.maxLayerBytes; max > 0 && li.Size > max {
		w.issue(Issue{Kind: IssueLayerSizeLimit, Layer: li.Index,
			Detail: fmt.Sprintf("layer not read: its descriptor declares %d compressed bytes, more than %d", li.Size, max)})
		return w.endLayer(li, nil, false)
	}
	var rec Recorder
	// A layer without a diffID has no cache key: never replayed or recorded.
	if w.src != nil && li.DiffID != (v1.Hash{}) {
		var rp Replay
		rp, rec = w.src.BeginLayer(ctx, li, w.opts.cacheKey(), func(n int64) bool { return w.fits(li, n) })
		if rp != nil {
			err := w.replayLayer(ctx, li, rp)
			if errors.Is(err, ErrCacheRecord) {
				rp.Discard()
			}
			return err
		}
	}
	if r := w.pre.take(li.Index); r != nil && w.prereadFits(li, r) {
		return w.applyRecording(ctx, li, r, rec)
	}
	complete, err := w.streamLayer(ctx, li, l, rec)
	if err != nil {
		if rec != nil {
			rec.End(li.Bytes, nil, false)
		}
		return err
	}
	return w.endLayer(li, rec, complete)
}

// endLayer runs the layer analysis of a layer that was not replayed and
// tells the recorder how the layer ended.
func (w *walker) endLayer(li *LayerInfo, rec Recorder, complete bool) error {
	var result []byte
	if w.la != nil {
		var err error
		if result, err = w.la.AnalyzeLayer(li); err != nil {
			if rec != nil {
				rec.End(li.Bytes, nil, false)
			}
			return fmt.Errorf("layer %d (%s): analyze layer: %w", li.Index, li.DiffID, err)
		}
	}
	if rec != nil {
		rec.End(li.Bytes, result, complete)
	}
	return nil
}

// fits reports whether a layer of n uncompressed bytes would have been read
// to the end under the current byte limits.
func (w *walker) fits(li *LayerInfo, n int64) bool {
	o := &w.opts
	if o.maxTotalBytes > 0 && w.total+n >= o.maxTotalBytes {
		return false
	}
	if o.maxLayerUncomp > 0 && n >= o.maxLayerUncomp {
		return false
	}
	return true
}

// replayLayer applies recorded entries; the analyzer gets each file's
// recorded result instead of its content.
func (w *walker) replayLayer(ctx context.Context, li *LayerInfo, rp Replay) error {
	li.Cached = true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := rp.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("replay layer %d (%s): %w", li.Index, li.DiffID, err)
		}
		if w.opts.maxEntries > 0 && li.Entries >= w.opts.maxEntries {
			return fmt.Errorf("replay layer %d (%s): %w: more entries than the limit", li.Index, li.DiffID, ErrCacheRecord)
		}
		if max := w.opts.maxImageEntries; max > 0 && w.entries >= max {
			// The walk that reads the layer stops at the budget; a replay
			// cannot stop halfway the same way (its layer result is whole).
			return fmt.Errorf("replay layer %d (%s): %w: more entries than the image budget", li.Index, li.DiffID, ErrCacheRecord)
		}
		li.Entries++
		w.entries++
		e := w.apply(li, hdr)
		if e == nil {
			continue
		}
		f, err := rp.File()
		if err == nil && w.an != nil {
			if err = w.an.ReplayFile(li, e, f.Result); err != nil {
				err = fmt.Errorf("replay: %w", err)
			}
		}
		if err != nil {
			return fmt.Errorf("replay layer %d (%s) %s: %w", li.Index, li.DiffID, hdr.Name, err)
		}
		if f.Truncated {
			w.fileLimit(li, e)
		}
	}
	bytes, result := rp.End()
	if w.la != nil {
		if err := w.la.ReplayLayer(li, result); err != nil {
			return fmt.Errorf("replay layer %d (%s): %w", li.Index, li.DiffID, err)
		}
	}
	li.Complete = true
	li.Bytes = bytes
	w.total += bytes
	return nil
}

// streamLayer reads a layer from its blob. complete reports whether it was
// read to its end and its content hashed to its diffID.
func (w *walker) streamLayer(ctx context.Context, li *LayerInfo, l v1.Layer, rec Recorder) (complete bool, err error) {
	i := li.Index
	rs, err := openLayer(l, w.opts.maxLayerBytes)
	if errors.Is(err, ErrBlobMismatch) {
		// The source says up front that it does not serve this blob: the
		// layer is void, as if read and found to mismatch.
		li.Mismatch = true
		w.issue(Issue{Kind: IssueDigestMismatch, Layer: i, Detail: err.Error() + "; the layer was not read, so it holds no findings"})
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open layer %d (%s): %w", i, li.DiffID, err)
	}
	defer rs.Close()
	cr := &countingReader{r: rs, w: w, li: li}
	tr := tar.NewReader(cr)
	// stop ends the layer early: a limit hit becomes its issue; a stream that
	// failed or ended inside an entry is an error before the first entry and
	// an IssueLayerTruncated after it.
	stop := func(err error, where string) error {
		var le *limitError
		if cr.limit != nil {
			le = cr.limit
		}
		if le != nil || errors.As(err, &le) {
			if le.image {
				w.stopImage(i, le)
			} else {
				w.issue(Issue{Kind: le.kind, Layer: i, Detail: le.detail})
			}
			return nil
		}
		if li.Entries == 0 {
			return fmt.Errorf("read layer %d (%s): not a readable layer: %w", i, li.DiffID, err)
		}
		w.issue(Issue{Kind: IssueLayerTruncated, Layer: i, Path: where,
			Detail: fmt.Sprintf("layer stream cut short or corrupt after %d entries (%d bytes): %v; the rest of the layer was not scanned", li.Entries, li.Bytes, err)})
		return nil
	}
	// With workers (parallel walks), files go to them and reach the
	// analyzer in entry order (streamFan); every issue and return below
	// comes after the files before it were applied.
	fan := w.newStreamFan(li, rec, func() bool { return cr.limit != nil || cr.err != nil || cr.eof })
	defer fan.wait()
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		hdr, err := tr.Next()
		if ferr := fan.drain(err != nil); ferr != nil {
			return false, ferr
		}
		if err == io.EOF {
			if cr.eof && li.Entries > 0 {
				// The stream ended where a header was due, without the
				// end-of-archive marker: a tar cut at an entry boundary.
				return false, stop(io.ErrUnexpectedEOF, "")
			}
			li.Complete = true
			return w.verifyLayer(li, rs), nil
		}
		if err != nil {
			return false, stop(err, "")
		}
		if w.opts.maxEntries > 0 && li.Entries >= w.opts.maxEntries {
			if ferr := fan.drain(true); ferr != nil {
				return false, ferr
			}
			w.issue(Issue{Kind: IssueEntryLimit, Layer: i,
				Detail: fmt.Sprintf("layer has more than %d entries; the rest was not scanned", w.opts.maxEntries)})
			return false, nil
		}
		if le := w.imageBudget(); le != nil {
			if ferr := fan.drain(true); ferr != nil {
				return false, ferr
			}
			w.stopImage(i, le)
			return false, nil
		}
		li.Entries++
		w.entries++
		if fan != nil {
			f, streamErr, err := fan.add(ctx, hdr, tr)
			if err != nil {
				return false, err
			}
			if streamErr != nil {
				if ferr := fan.drain(true); ferr != nil {
					return false, ferr
				}
				if f.Truncated {
					w.fileLimit(li, fan.last)
				}
				return false, stop(cmpErr(cr.err, streamErr), hdr.Name)
			}
			continue
		}
		f, err := w.applyStreamed(li, hdr, tr)
		if err != nil {
			if cr.limit != nil || cr.err != nil || cr.eof {
				// The stream failed under the analyzer, not the analyzer.
				return false, stop(cmpErr(cr.err, err), hdr.Name)
			}
			return false, fmt.Errorf("layer %d (%s) %s: %w", i, li.DiffID, hdr.Name, err)
		}
		if rec != nil {
			rec.Entry(hdr, f)
		}
	}
}

// applyStreamed applies a header read from the blob and hands a regular
// file's content, bounded by MaxFileBytes, to the analyzer.
func (w *walker) applyStreamed(li *LayerInfo, hdr *tar.Header, content io.Reader) (FileOutcome, error) {
	e := w.apply(li, hdr)
	if e == nil {
		return FileOutcome{}, nil
	}
	f := FileOutcome{Visited: true}
	if w.an == nil {
		return f, nil
	}
	cr := &contentReader{r: content, limit: w.opts.maxFileBytes, size: hdr.Size}
	result, err := w.an.AnalyzeFile(li, e, cr)
	if cr.truncated {
		f.Truncated = true
		w.fileLimit(li, e)
	}
	if err != nil {
		return f, fmt.Errorf("visit: %w", err)
	}
	f.Result = result
	return f, nil
}

func (w *walker) fileLimit(li *LayerInfo, e *Entry) {
	w.issue(Issue{Kind: IssueFileLimit, Layer: li.Index, Path: e.Path,
		Detail: fmt.Sprintf("only the first %d of %d bytes were scanned", w.opts.maxFileBytes, e.Size)})
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// verifyLayer checks a layer read to its end against the config's diffID
// and, for blobs, the manifest's digest and size. A mismatch is an issue:
// the content scanned is not the content the image names. It reports
// whether both matched: only then may the layer be cached, since a cache
// record stands for the content its diffID names.
func (w *walker) verifyLayer(li *LayerInfo, rs *layerStream) bool {
	diffOK, digestOK, mismatch, why := rs.verify(li.DiffID, li.Digest, li.Size)
	if why != "" {
		if mismatch {
			li.Mismatch = true
			why += "; this is not the layer the image names (a runtime refuses it), so its findings are void: pull or export the image again, and if it persists, the registry or a proxy in front of it serves corrupt or tampered blobs"
		}
		w.issue(Issue{Kind: IssueDigestMismatch, Layer: li.Index, Detail: why})
	}
	return diffOK && digestOK
}
