package imageref

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/strata-sec/strata/internal/layers"
)

// RegistryLayersAtOnce is the least number of layers a registry scan
// fetches (and analyses) at once, whatever GOMAXPROCS says: Docker's
// daemon downloads 3 layers at once by default (max-concurrent-downloads),
// enough to keep a link busy while one layer's content is being analysed;
// more only adds connections and memory held for layers the walk has not
// reached.
const RegistryLayersAtOnce = 3

// LayersAtOnce is how many layers a scan of targets should read at once:
// GOMAXPROCS (decompressing and analysing a layer keeps a core busy), and
// at least RegistryLayersAtOnce when a target comes from a registry (a
// layer in flight mostly waits for the network).
func LayersAtOnce(targets []Target) int {
	n := runtime.GOMAXPROCS(0)
	for _, t := range targets {
		if t.Remote {
			return max(n, RegistryLayersAtOnce)
		}
	}
	return n
}

// Registry layers stream: each blob is one GET whose body goes straight to
// the walker, which decompresses and analyses it as it arrives, hashes the
// compressed bytes on the way, and checks digest and size at the end
// (internal/layers). go-containerregistry's own blob reader would hash the
// blob a second time and report a mismatch as an opaque read error at the
// end of the stream; the walker's check names the layer, voids its
// findings and keeps it out of the layer cache.

// blobFetcher GETs the blobs of one repository with the transport the
// manifest was fetched with (timeouts, redirect cap, TLS choice), plus
// authentication and retries, set up on the first blob: a scan whose
// layers are all cached never pays for it.
type blobFetcher struct {
	ctx  context.Context
	repo name.Repository
	kc   authn.Keychain
	base http.RoundTripper

	once   sync.Once
	client *http.Client
	err    error
}

func newBlobFetcher(ctx context.Context, repo name.Repository, kc authn.Keychain, opts Options) *blobFetcher {
	return &blobFetcher{ctx: ctx, repo: repo, kc: kc, base: newTransport(opts.Timeouts, opts.Insecure)}
}

func (f *blobFetcher) setup() error {
	f.once.Do(func() {
		auth, err := authn.Resolve(f.ctx, f.kc, f.repo)
		if err != nil {
			f.err = fmt.Errorf("resolve credentials for %s: %w", f.repo, err)
			return
		}
		rt, err := transport.NewWithContext(f.ctx, f.repo.Registry, auth, transport.NewRetry(f.base), []string{f.repo.Scope(transport.PullScope)})
		if err != nil {
			f.err = fmt.Errorf("authenticate to %s: %w (%s)", f.repo.Registry, err, fetchHint(err))
			return
		}
		f.client = &http.Client{Transport: rt, CheckRedirect: noPrivateRedirect}
	})
	return f.err
}

// noPrivateRedirect refuses a redirect from the registry to another host
// that is a private or link-local address (go-containerregistry's SSRF
// guard for blob fetches).
func noPrivateRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 || req.URL.Hostname() == via[0].URL.Hostname() {
		return nil
	}
	if ip := net.ParseIP(req.URL.Hostname()); ip != nil && (ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified()) {
		return fmt.Errorf("registry redirected a blob from %s to the private address %s: refused", via[0].URL.Host, req.URL.Host)
	}
	return nil
}

// open GETs blob d and returns its body unverified: the reader checks it.
// A Content-Length other than the manifest's size fails before any byte
// is read.
func (f *blobFetcher) open(d v1.Descriptor) (io.ReadCloser, error) {
	if err := f.setup(); err != nil {
		return nil, err
	}
	u := url.URL{Scheme: f.repo.Scheme(), Host: f.repo.RegistryStr(), Path: fmt.Sprintf("/v2/%s/blobs/%s", f.repo.RepositoryStr(), d.Digest)}
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch blob %s: %w (%s)", d.Digest, err, fetchHint(err))
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch blob %s: %w", d.Digest, err)
	}
	if resp.ContentLength >= 0 && d.Size > 0 && resp.ContentLength != d.Size {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch blob %s: the registry sends %d bytes, the manifest says %d: %w: it does not serve this image's layer (pull again; if it persists, the registry or a proxy in front of it is corrupt or tampered with)", d.Digest, resp.ContentLength, d.Size, layers.ErrBlobMismatch)
	}
	return resp.Body, nil
}

// streamImage is a registry image whose layers are fetched by a
// blobFetcher: manifest and config come from go-containerregistry's
// image (fetched and verified by it).
type streamImage struct {
	img v1.Image
	f   *blobFetcher
	m   *v1.Manifest
}

// streamed wraps a registry image so its layers stream (see blobFetcher).
func streamed(img v1.Image, f *blobFetcher) (v1.Image, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&streamImage{img: img, f: f, m: m})
}

func (s *streamImage) RawConfigFile() ([]byte, error)      { return s.img.RawConfigFile() }
func (s *streamImage) MediaType() (types.MediaType, error) { return s.img.MediaType() }
func (s *streamImage) RawManifest() ([]byte, error)        { return s.img.RawManifest() }

func (s *streamImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, d := range s.m.Layers {
		if d.Digest == h {
			return &streamBlob{s: s, d: d}, nil
		}
	}
	if h == s.m.Config.Digest {
		return &streamBlob{s: s, d: s.m.Config, config: true}, nil
	}
	return nil, fmt.Errorf("blob %s is not in the manifest", h)
}

// streamBlob is one blob of a streamImage.
type streamBlob struct {
	s      *streamImage
	d      v1.Descriptor
	config bool
}

func (b *streamBlob) Digest() (v1.Hash, error)            { return b.d.Digest, nil }
func (b *streamBlob) Size() (int64, error)                { return b.d.Size, nil }
func (b *streamBlob) MediaType() (types.MediaType, error) { return b.d.MediaType, nil }

func (b *streamBlob) Compressed() (io.ReadCloser, error) {
	switch {
	case b.config:
		raw, err := b.s.img.RawConfigFile()
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(raw)), nil
	case len(b.d.URLs) > 0:
		// A foreign layer (URLs in its descriptor, Windows base layers):
		// go-containerregistry knows where to look for it.
		l, err := b.s.img.LayerByDigest(b.d.Digest)
		if err != nil {
			return nil, err
		}
		return l.Compressed()
	}
	return b.s.f.open(b.d)
}
