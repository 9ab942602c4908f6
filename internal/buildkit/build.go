package buildkit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/strata-sec/strata/internal/store"
)

// storeID is the name under which the strata store is offered to BuildKit
// as an OCI layout (`oci-layout://strata@sha256:...`).
const storeID = "strata"

// Builder builds Dockerfiles into a Store.
type Builder struct {
	c     *client.Client
	store *store.Store
}

// NewBuilder connects to the daemon at addr.
func NewBuilder(ctx context.Context, addr string, st *store.Store) (*Builder, error) {
	if err := Ping(ctx, addr); err != nil {
		return nil, fmt.Errorf("connect to buildkitd: %w (start one with `strata buildkit start`, or omit --buildkit-addr to let strata start a private one)", err)
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &Builder{c: c, store: st}, nil
}

// Close closes the client connection.
func (b *Builder) Close() error { return b.c.Close() }

// Request is one Dockerfile build.
type Request struct {
	// ContextDir is the build context; Dockerfile is the Dockerfile text.
	ContextDir string
	Dockerfile []byte
	BuildArgs  map[string]string
	// BaseImages maps a FROM name as written in the Dockerfile (for
	// example "debian:bookworm") to a manifest digest in the store.
	BaseImages map[string]v1.Hash
	// Epoch, if set, is SOURCE_DATE_EPOCH: history and config timestamps
	// and file mtimes inside layers are clamped to it, so builds repeat
	// byte for byte. Nil keeps build-time timestamps.
	Epoch *time.Time
	// NoCache disables BuildKit's cache for this build.
	NoCache bool
	// AddHosts are extra /etc/hosts entries for RUN steps ("name=ip").
	AddHosts []string
	// Progress receives BuildKit's plain progress log; nil discards it.
	Progress io.Writer
	// Name and Annotations register the result in the store's index
	// (replacing an entry of the same name).
	Name        string
	Annotations map[string]string
}

// Result is a finished build.
type Result struct {
	Descriptor v1.Descriptor
	Image      v1.Image
}

// Build runs the Dockerfile frontend, exports the image into the store as an
// OCI manifest and registers it under req.Name.
func (b *Builder) Build(ctx context.Context, req Request) (*Result, error) {
	dfDir, err := os.MkdirTemp("", "strata-dockerfile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dfDir)
	if err := os.WriteFile(filepath.Join(dfDir, "Dockerfile"), req.Dockerfile, 0o644); err != nil {
		return nil, err
	}
	ctxFS, err := fsutil.NewFS(req.ContextDir)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", req.ContextDir, err)
	}
	dfFS, err := fsutil.NewFS(dfDir)
	if err != nil {
		return nil, err
	}
	cs, err := b.store.ContentStore()
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{"filename": "Dockerfile"}
	for _, k := range sortedKeys(req.BuildArgs) {
		attrs["build-arg:"+k] = req.BuildArgs[k]
	}
	for _, name := range sortedKeys(req.BaseImages) {
		attrs["context:"+name] = "oci-layout://" + storeID + "@" + req.BaseImages[name].String()
	}
	if req.NoCache {
		attrs["no-cache"] = ""
	}
	if len(req.AddHosts) > 0 {
		hosts := ""
		for i, h := range req.AddHosts {
			if i > 0 {
				hosts += ","
			}
			hosts += h
		}
		attrs["add-hosts"] = hosts
	}
	exportAttrs := map[string]string{
		"oci-mediatypes": "true",
		"compression":    "gzip",
		"tar":            "false",
	}
	if req.Epoch != nil {
		epoch := strconv.FormatInt(req.Epoch.Unix(), 10)
		attrs["build-arg:SOURCE_DATE_EPOCH"] = epoch
		exportAttrs["source-date-epoch"] = epoch
		exportAttrs["rewrite-timestamp"] = "true"
	}
	opt := client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS},
		OCIStores:     map[string]content.Store{storeID: cs},
		Exports: []client.ExportEntry{{
			Type:        client.ExporterOCI,
			Attrs:       exportAttrs,
			OutputStore: cs,
		}},
	}

	ch := make(chan *client.SolveStatus)
	eg, gctx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	eg.Go(func() error {
		var err error
		resp, err = b.c.Solve(gctx, nil, opt, ch)
		return err
	})
	eg.Go(func() error {
		w := req.Progress
		if w == nil {
			w = io.Discard
		}
		d, err := progressui.NewDisplay(w, progressui.PlainMode)
		if err != nil {
			return err
		}
		_, err = d.UpdateFrom(context.WithoutCancel(gctx), ch)
		return err
	})
	if err := waitOrAbandon(ctx, eg.Wait, 15*time.Second); err != nil {
		return nil, fmt.Errorf("buildkit solve: %w", err)
	}
	desc, err := exportedDescriptor(resp.ExporterResponse)
	if err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, fmt.Errorf("build request has no name to register the image under")
	}
	if err := b.store.Register(desc, req.Name, req.Annotations); err != nil {
		return nil, err
	}
	img, err := b.store.Image(desc.Digest)
	if err != nil {
		return nil, err
	}
	return &Result{Descriptor: desc, Image: img}, nil
}

func exportedDescriptor(er map[string]string) (v1.Descriptor, error) {
	if enc := er[exptypes.ExporterImageDescriptorKey]; enc != "" {
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("decode exporter descriptor: %w", err)
		}
		var d v1.Descriptor
		if err := json.Unmarshal(raw, &d); err != nil {
			return v1.Descriptor{}, fmt.Errorf("decode exporter descriptor: %w", err)
		}
		d.Annotations = nil
		return d, nil
	}
	return v1.Descriptor{}, fmt.Errorf("buildkit returned no image descriptor (exporter response keys: %v)", sortedKeys(er))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// waitOrAbandon waits for wait to return. Once ctx is cancelled it waits at
// most grace more: BuildKit's client can keep retrying its session stream
// after a cancellation, and an interrupted run must stop promptly (the
// daemon cancels the orphaned solve when the session goes away).
func waitOrAbandon(ctx context.Context, wait func() error, grace time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		return fmt.Errorf("abandoned after cancellation: %w", context.Cause(ctx))
	}
}

// BuildRetry is Build, retried (up to 3 attempts, with a short pause) when
// the store's content store refused a concurrent writer of the same blob
// ("ref ... locked ... unavailable"): two different images can share a new
// blob, and containerd's local store admits one writer at a time.
func (b *Builder) BuildRetry(ctx context.Context, req Request) (*Result, error) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var res *Result
		res, err = b.Build(ctx, req)
		if err == nil || !isLockConflict(err) || ctx.Err() != nil {
			return res, err
		}
		time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
	}
	return nil, err
}

func isLockConflict(err error) bool {
	s := err.Error()
	return strings.Contains(s, "locked for") || (strings.Contains(s, "Unavailable") && strings.Contains(s, "locked"))
}
