package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/layers"
)

// The registry entry (Config.Registry): the image is pushed to a registry
// on loopback (go-containerregistry's in-memory registry, in this process)
// and timed two ways at the same concurrency, the layers `strata scan`
// reads at once from a registry (imageref.LayersAtOnce):
//
//   - registry-fetch, the floor: the manifest, the config and every layer
//     blob fetched with go-containerregistry and discarded, nothing else;
//   - registry-scan: what `strata scan REGISTRY/REF` does without a cache:
//     open the reference and scan it, every layer streamed from its GET
//     into the walker.
//
// Their ratio says what scanning costs on top of the download. On
// loopback the download is nearly free (GB/s) and the ratio is the scan's
// CPU time over the fetch's; so the same two are timed again over a link
// of Config.RegistryLink bytes a second shared by every connection
// (registry-fetch-link, registry-scan-link), where, as in front of a real
// registry, the download is the slower stage and streaming should hide the
// scan behind it.
const (
	measureRegistryFetch     = "registry-fetch"
	measureRegistryScan      = "registry-scan"
	measureRegistryFetchLink = "registry-fetch-link"
	measureRegistryScanLink  = "registry-scan-link"
)

// DefaultRegistryLink is the link of the -link rows: 40 MB/s (320 Mbit/s).
const DefaultRegistryLink = 40e6

// registryPairs are the fetch floor and the scan compared with it.
var registryPairs = [][2]string{
	{measureRegistryFetch, measureRegistryScan},
	{measureRegistryFetchLink, measureRegistryScanLink},
}

// registryTarget: a registry scan within 1.3x of the fetch-only time.
const registryTarget = 1.3

// benchRegistry pushes img to a loopback registry and times the fetch floor
// and the cold registry scan count times each, alternating; with link > 0
// the registry serves at most link bytes a second (and the rows are the
// -link ones).
func benchRegistry(ctx context.Context, img v1.Image, count int, link float64) ([]Measurement, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registry bench: listen on loopback: %w", err)
	}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var sl *sharedLink
	if link > 0 {
		sl = &sharedLink{rate: link}
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && sl.on.Load() {
				w = linkWriter{w, sl}
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	ref, err := name.NewTag(ln.Addr().String()+"/strata/bench:latest", name.Insecure)
	if err != nil {
		return nil, err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("registry bench: push to %s: %w", ref, err)
	}
	par := imageref.LayersAtOnce([]imageref.Target{{Remote: true}})
	fetch := Measurement{Name: measureRegistryFetch}
	scan := Measurement{Name: measureRegistryScan}
	extra := map[string]int64{"concurrency": int64(par)}
	if sl != nil {
		sl.on.Store(true) // the push above went at loopback speed
		fetch.Name, scan.Name = measureRegistryFetchLink, measureRegistryScanLink
		extra["link_bytes_per_s"] = int64(link)
	}
	// served is what went through the link during one run, so each run's
	// record says the rate the link achieved (bytes / time).
	served := func() int64 {
		if sl == nil {
			return 0
		}
		return sl.served.Swap(0)
	}
	for range count {
		var blobs int64
		served()
		ns, err := timeIt(func() (err error) { blobs, err = fetchAll(ctx, ref, par); return err })
		if err != nil {
			return nil, fmt.Errorf("registry bench: fetch %s: %w", ref, err)
		}
		fetch.RunsNS = append(fetch.RunsNS, ns)
		fe := maps.Clone(extra)
		fe["blob_bytes"] = blobs
		if sl != nil {
			fe["link_served_bytes"] = served()
		}
		fetch.Extra = append(fetch.Extra, fe)

		var v string
		ns, err = timeIt(func() error {
			targets, err := imageref.Open(ctx, "registry:"+ref.String(), imageref.Options{Insecure: true})
			if err != nil {
				return err
			}
			if len(targets) != 1 {
				return fmt.Errorf("%d targets, want 1", len(targets))
			}
			d := hierarchical.New(hierarchical.WithLayerCache(nil), hierarchical.WithWalkOptions(layers.WithParallelLayers(imageref.LayersAtOnce(targets))))
			verdict, err := d.Scan(ctx, targets[0].Image)
			v = string(verdict.Decision)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("registry bench: scan %s: %w", ref, err)
		}
		if v == "invalid" {
			return nil, errors.New("registry bench: the registry scan found the image invalid: the bench image does not survive a push")
		}
		scan.RunsNS = append(scan.RunsNS, ns)
		se := maps.Clone(extra)
		if sl != nil {
			se["link_served_bytes"] = served()
		}
		scan.Extra = append(scan.Extra, se)
	}
	return []Measurement{fetch, scan}, nil
}

// sharedLink paces the bytes every response writes through it to rate
// bytes a second in total, like one network link the connections share.
// A sender that wakes late (the scan keeps the cores busy) may catch up on
// up to linkBurst of unused time, so oversleeping does not slow the link.
type sharedLink struct {
	rate   float64
	on     atomic.Bool
	served atomic.Int64 // bytes sent through the link
	mu     sync.Mutex
	next   time.Time // when the link is free again
}

const linkBurst = 20 * time.Millisecond

// take waits until n more bytes may go.
func (l *sharedLink) take(n int) {
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now.Add(-linkBurst)) {
		l.next = now.Add(-linkBurst)
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	until := l.next
	l.mu.Unlock()
	time.Sleep(time.Until(until))
}

// linkWriter sends a response through a sharedLink, 64 KiB at a time. It
// hides the ResponseWriter's ReadFrom, so io.Copy comes through Write.
type linkWriter struct {
	http.ResponseWriter
	l *sharedLink
}

func (w linkWriter) Write(p []byte) (int, error) {
	var n int
	for len(p) > 0 {
		k := min(len(p), 64<<10)
		w.l.take(k)
		m, err := w.ResponseWriter.Write(p[:k])
		w.l.served.Add(int64(m))
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// fetchAll fetches the manifest, the config and every layer blob of ref
// with go-containerregistry, par blobs at once, and returns the layer
// bytes read. go-containerregistry verifies each blob's digest as it reads.
func fetchAll(ctx context.Context, ref name.Reference, par int) (int64, error) {
	img, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	if _, err := img.RawConfigFile(); err != nil {
		return 0, err
	}
	ls, err := img.Layers()
	if err != nil {
		return 0, err
	}
	n := make([]int64, len(ls))
	var g errgroup.Group
	g.SetLimit(par)
	for i, l := range ls {
		g.Go(func() error {
			rc, err := l.Compressed()
			if err != nil {
				return err
			}
			defer rc.Close()
			n[i], err = io.Copy(io.Discard, rc)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	var total int64
	for _, x := range n {
		total += x
	}
	return total, nil
}

// registryRatio is the table's "vs floor" cell of the registry rows: the
// scan's time as a multiple of the fetch floor's.
func registryRatio(bi Image, m Measurement) (string, bool) {
	for _, p := range registryPairs {
		switch m.Name {
		case p[0]:
			return "1.00x fetch", true
		case p[1]:
			if f, _ := bi.median(p[0]); f > 0 {
				return fmt.Sprintf("%.2fx fetch", float64(m.MedianNS)/float64(f)), true
			}
			return "-", true
		}
	}
	return "", false
}

// registryVerdicts gives one line per image with a registry entry.
func registryVerdicts(rep Report) []string {
	var out []string
	for _, bi := range rep.Images {
		for _, p := range registryPairs {
			f, _ := bi.median(p[0])
			s, _ := bi.median(p[1])
			if f <= 0 || s <= 0 {
				continue
			}
			r := float64(s) / float64(f)
			pass := "FAIL"
			if r <= registryTarget {
				pass = "PASS"
			}
			var par, link int64
			for _, m := range bi.Measurements {
				if m.Name == p[1] && len(m.Extra) > 0 {
					par, link = m.Extra[0]["concurrency"], m.Extra[0]["link_bytes_per_s"]
				}
			}
			where := "from loopback"
			if link > 0 {
				where = fmt.Sprintf("over a %.0f MB/s link", float64(link)/1e6)
			}
			out = append(out, fmt.Sprintf("%s %s: registry scan %s %.2fx the fetch-only time (%s vs %s, %d layers at once; target <= %.1fx)",
				pass, label(bi.Target), where, r, fmtDur(s), fmtDur(f), par, registryTarget))
		}
	}
	return out
}
