package imageref

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// openRemote reads an image or index from a registry. Layers are fetched
// when the detector reads them, each streamed from one GET (stream.go).
func openRemote(ctx context.Context, s string, want *v1.Platform, opts Options) ([]Target, error) {
	ts, ref, kc, err := resolveRemote(ctx, s, want, opts)
	if err != nil {
		return nil, err
	}
	f := newBlobFetcher(ctx, ref.Context(), kc, opts)
	for i := range ts {
		if ts[i].Image, err = streamed(ts[i].Image, f); err != nil {
			return nil, fmt.Errorf("%s: %w", ts[i].Name, err)
		}
		ts[i].Remote = true
	}
	return ts, nil
}

// resolveRemote fetches the manifest or index s names and picks its images.
func resolveRemote(ctx context.Context, s string, want *v1.Platform, opts Options) ([]Target, name.Reference, authn.Keychain, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(s, nopts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%q is not an image reference: %w", s, err)
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc),
		remote.WithTransport(newTransport(opts.Timeouts, opts.Insecure))}
	ropts = append(ropts, opts.RemoteOptions...)
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fetch %s: %w (%s)", ref, err, fetchHint(err))
	}
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", ref, err)
		}
		ts, err := expandIndex(ctx, ref.String(), idx, want, 1)
		return ts, ref, kc, err
	case desc.MediaType.IsImage():
		img, err := desc.Image()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", ref, err)
		}
		ts, err := single(ref.String(), img, desc.Platform, want)
		return ts, ref, kc, err
	}
	return nil, nil, nil, fmt.Errorf("%s is a %q, not an image or an index", ref, desc.MediaType)
}

// fetchHint says what to do about a failed registry fetch.
func fetchHint(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrTooManyRedirects):
		return "check the registry address"
	case errors.Is(err, ErrStalled), errors.As(err, &ne) && ne.Timeout():
		return "the registry did not answer in time: check that it is up, or raise the timeouts for a slow link"
	}
	return "private registry: log in with `docker login`; plain-HTTP or self-signed registry: add --insecure"
}
