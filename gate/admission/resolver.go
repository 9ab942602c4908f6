package admission

import (
	"context"
	"fmt"
	"slices"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxIndexDepth bounds nested indexes (index -> index -> manifest).
const maxIndexDepth = 4

// kubeletPlatform is the platform whose manifest RegistryResolver picks
// from an index.
var kubeletPlatform = specs.Platform{OS: "linux", Architecture: "amd64"}

// RegistryResolver resolves references against their registries with
// go-containerregistry: a HEAD request for the digest, a GET only for an
// index, whose linux/amd64 manifests are picked as containerd does.
// References are read as the kubelet reads them (no registry means Docker
// Hub, no tag means latest). Registries on loopback, RFC 1918 addresses and
// localhost are spoken to over plain HTTP, as go-containerregistry's name
// package decides; others need HTTPS. Credentials come from the default
// keychain (the docker config of the user running strata) unless opts
// replace them; opts are given to every request.
func RegistryResolver(opts ...remote.Option) Resolver {
	return &registryResolver{opts: opts, platform: kubeletPlatform}
}

type registryResolver struct {
	opts     []remote.Option
	platform specs.Platform
}

func (r *registryResolver) Resolve(ctx context.Context, s string) ([]string, string, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, "", fmt.Errorf("%q is not an image reference: %w", s, err)
	}
	opts := append([]remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}, r.opts...)
	opts = append(opts, remote.WithContext(ctx))

	desc, err := remote.Head(ref, opts...)
	if err != nil || desc.MediaType.IsIndex() {
		// Some registries do not answer HEAD; an index must be read.
		get := ref
		if err == nil {
			get = ref.Context().Digest(desc.Digest.String())
		}
		full, gerr := remote.Get(get, opts...)
		if gerr != nil {
			return nil, "", fmt.Errorf("fetch %s: %w", ref, gerr)
		}
		desc = &full.Descriptor
		if full.MediaType.IsIndex() {
			idx, err := full.ImageIndex()
			if err != nil {
				return nil, "", fmt.Errorf("%s: %w", ref, err)
			}
			return r.fromIndex(ref, idx)
		}
	}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return nil, "", fmt.Errorf("%s: registry answered with digest %s", ref, desc.Digest)
	}
	if !desc.MediaType.IsImage() {
		return nil, "", fmt.Errorf("%s is a %q, not an image or an index", ref, desc.MediaType)
	}
	return []string{desc.Digest.String()}, ref.Context().Digest(desc.Digest.String()).String(), nil
}

// fromIndex returns the manifests of idx containerd would pick for the
// platform (all of the best-ranked, should several tie), then the index.
func (r *registryResolver) fromIndex(ref name.Reference, idx v1.ImageIndex) ([]string, string, error) {
	top, err := idx.Digest()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", ref, err)
	}
	canonical := ref.Context().Digest(top.String()).String()
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != top.String() {
		return nil, "", fmt.Errorf("%s: registry answered with digest %s", ref, top)
	}
	m := platforms.Only(r.platform)
	var found []v1.Descriptor
	var walk func(idx v1.ImageIndex, depth int) error
	walk = func(idx v1.ImageIndex, depth int) error {
		if depth > maxIndexDepth {
			return fmt.Errorf("%s: indexes nested deeper than %d", ref, maxIndexDepth)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return fmt.Errorf("%s: read index: %w", ref, err)
		}
		for _, d := range im.Manifests {
			switch {
			case d.MediaType.IsIndex():
				child, err := idx.ImageIndex(d.Digest)
				if err != nil {
					return fmt.Errorf("%s: open index %s: %w", ref, d.Digest, err)
				}
				if err := walk(child, depth+1); err != nil {
					return err
				}
			// An entry without a platform is kept: containerd would
			// read its config to decide, and checking one more digest
			// costs only a verdict look-up.
			case d.MediaType.IsImage() && (d.Platform == nil || m.Match(specOf(d.Platform))):
				found = append(found, d)
			}
		}
		return nil
	}
	if err := walk(idx, 1); err != nil {
		return nil, "", err
	}
	var digests []string
	for _, d := range best(m, found) {
		if s := d.Digest.String(); !slices.Contains(digests, s) {
			digests = append(digests, s)
		}
	}
	if len(digests) == 0 {
		return nil, "", fmt.Errorf("%s has no image for %s: the kubelet could not run it either", ref, platforms.Format(r.platform))
	}
	return append(digests, top.String()), canonical, nil
}

// best keeps the entries the matcher ranks first (entries without a
// platform always).
func best(m platforms.MatchComparer, ds []v1.Descriptor) []v1.Descriptor {
	var top *specs.Platform
	for _, d := range ds {
		if d.Platform != nil {
			if p := specOf(d.Platform); top == nil || m.Less(p, *top) {
				top = &p
			}
		}
	}
	var out []v1.Descriptor
	for _, d := range ds {
		if d.Platform == nil || !m.Less(*top, specOf(d.Platform)) {
			out = append(out, d)
		}
	}
	return out
}

func specOf(p *v1.Platform) specs.Platform {
	return platforms.Normalize(specs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion})
}
