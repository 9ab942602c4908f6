package imageref

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Prefixes that force how a reference is read.
const (
	PrefixLayout   = "oci-layout:"
	PrefixRegistry = "registry:"
)

// Limits on the documents read to find images. Layer blobs are not bounded
// here; the detectors bound what they read of them.
const (
	MaxIndexBytes    = 32 << 20
	MaxManifestBytes = 4 << 20
	MaxConfigBytes   = 8 << 20
	// MaxTarEntries bounds the members indexed in an OCI-layout tar file.
	MaxTarEntries = 1 << 16
	// maxIndexDepth bounds nested indexes (index -> index -> manifest).
	maxIndexDepth = 4
)

// ErrNotFound is returned when a selector matches nothing.
var ErrNotFound = errors.New("image not found")

// Options configure Open.
type Options struct {
	// Platform, "os/arch[/variant]", keeps only matching images of a
	// multi-platform index; empty keeps all.
	Platform string
	// Insecure allows plain HTTP (and no TLS verification) for registries.
	Insecure bool
	// Keychain authenticates to registries; nil means authn.DefaultKeychain
	// (docker config, credential helpers).
	Keychain authn.Keychain
	// RemoteOptions are appended to the options given to remote.Get.
	RemoteOptions []remote.Option
}

// Target is one image to scan.
type Target struct {
	// Name says where the image came from: "DIR:NAME", "FILE@sha256:...",
	// "registry.example/repo:tag".
	Name string
	// Platform is "os/arch[/variant]", or "" when the image does not say.
	Platform string
	Image    v1.Image
}

// Open resolves ref into the images it names. Forms:
//
//	DIR                 an OCI image layout directory (its only image)
//	DIR:NAME            the entry annotated org.opencontainers.image.ref.name=NAME
//	DIR@sha256:HEX      the entry with that manifest or index digest
//	FILE[:NAME|@DIGEST] an OCI-layout tar or a docker-archive tar (docker save)
//	oci-layout:DIR[:NAME|@DIGEST]  a layout, never a registry
//	registry:REF        a registry reference, never a local path
//	REF                 anything else that parses as a reference, e.g. alpine:3.20
//
// Caller must not close anything: layout and tar images open their files on
// demand.
func Open(ctx context.Context, ref string, opts Options) ([]Target, error) {
	var want *v1.Platform
	if opts.Platform != "" {
		p, err := v1.ParsePlatform(opts.Platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("bad platform %q: want os/arch[/variant], e.g. linux/amd64 or linux/arm/v7", opts.Platform)
		}
		want = p
	}
	switch {
	case strings.HasPrefix(ref, PrefixRegistry):
		return openRemote(ctx, strings.TrimPrefix(ref, PrefixRegistry), want, opts)
	case strings.HasPrefix(ref, PrefixLayout):
		l, ok := splitLocal(expandHome(strings.TrimPrefix(ref, PrefixLayout)))
		if !ok {
			return nil, fmt.Errorf("%s: no such OCI layout directory", strings.TrimPrefix(ref, PrefixLayout))
		}
		if !l.dir {
			return nil, fmt.Errorf("%s is a file; oci-layout: wants a directory (give a tar file without the prefix)", l.path)
		}
		return openLocal(ctx, l, want)
	}
	if l, ok := splitLocal(expandHome(ref)); ok {
		return openLocal(ctx, l, want)
	}
	if looksLikePath(ref) {
		return nil, fmt.Errorf("%s: no such file or directory (for a registry image write registry:%s)", ref, ref)
	}
	if _, err := name.ParseReference(ref); err != nil {
		return nil, fmt.Errorf("%q is neither a local path nor an image reference: %v", ref, err)
	}
	ts, err := openRemote(ctx, ref, want, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (%q is not a local path, so it was read as a registry reference)", err, ref)
	}
	return ts, nil
}

// local is a path on disk plus an optional selector.
type local struct {
	path   string
	dir    bool
	name   string  // ref-name selector
	digest v1.Hash // digest selector (zero if none)
}

// splitLocal finds the existing file or directory ref starts with and the
// selector after it. Ref names contain ':' (base/debian:bookworm), so the
// leftmost ':' after which the prefix exists wins; a path containing ':'
// itself is found first as a whole.
func splitLocal(ref string) (local, bool) {
	stat := func(p string) (local, bool) {
		fi, err := os.Stat(p)
		if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) {
			return local{}, false
		}
		return local{path: p, dir: fi.IsDir()}, true
	}
	if l, ok := stat(ref); ok {
		return l, true
	}
	if i := strings.LastIndex(ref, "@"); i > 0 {
		if h, err := v1.NewHash(ref[i+1:]); err == nil {
			if l, ok := stat(ref[:i]); ok {
				l.digest = h
				return l, true
			}
		}
	}
	for i := 0; i < len(ref); i++ {
		if ref[i] != ':' || i == 0 {
			continue
		}
		if l, ok := stat(ref[:i]); ok && i+1 < len(ref) {
			l.name = ref[i+1:]
			return l, true
		}
	}
	return local{}, false
}

func looksLikePath(ref string) bool {
	return strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") || strings.HasPrefix(ref, "~") ||
		strings.HasSuffix(ref, ".tar") || strings.HasSuffix(ref, ".tar.gz") || strings.HasSuffix(ref, ".tgz") ||
		strings.Contains(ref, string(filepath.Separator)+".")
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}

func (l local) selector() string {
	switch {
	case l.name != "":
		return ":" + l.name
	case l.digest != (v1.Hash{}):
		return "@" + l.digest.String()
	}
	return ""
}

func openLocal(ctx context.Context, l local, want *v1.Platform) ([]Target, error) {
	var src blobSource
	if l.dir {
		if _, err := os.Stat(filepath.Join(l.path, "index.json")); err != nil {
			return nil, fmt.Errorf("%s is a directory but not an OCI image layout (no index.json); write one with `crane pull --format=oci` or `docker buildx build --output type=oci,tar=false`", l.path)
		}
		src = dirSource(l.path)
	} else {
		ts, kind, err := openTar(l.path)
		if err != nil {
			return nil, err
		}
		switch kind {
		case tarDockerArchive:
			ts.Close()
			return openDockerArchive(l, want)
		case tarOCILayout:
			src = ts
		}
	}
	idx := &layoutIndex{src: src, where: l.path}
	return selectFromLayout(ctx, idx, l, want)
}

// platformOf is a descriptor's platform, or the config's when the descriptor
// has none.
func platformOf(d *v1.Platform, img v1.Image) (*v1.Platform, error) {
	if d != nil && d.OS != "" {
		return d, nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return cf.Platform(), nil
}

func platformString(p *v1.Platform) string {
	if p == nil || p.OS == "" {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// single makes a Target of one image manifest, checking the platform.
func single(nameStr string, img v1.Image, desc *v1.Platform, want *v1.Platform) ([]Target, error) {
	p, err := platformOf(desc, img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameStr, err)
	}
	if want != nil && (p == nil || !p.Satisfies(*want)) {
		return nil, fmt.Errorf("%s is a single-platform image for %q, not %s: %w", nameStr, platformString(p), platformString(want), ErrNotFound)
	}
	return []Target{{Name: nameStr, Platform: platformString(p), Image: img}}, nil
}

// isAttestation reports BuildKit's provenance/SBOM manifests, which sit in
// indexes next to the images with platform unknown/unknown.
func isAttestation(d v1.Descriptor) bool {
	return d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" ||
		(d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown")
}

// expandIndex returns every image of idx (recursively) that matches want.
func expandIndex(ctx context.Context, nameStr string, idx v1.ImageIndex, want *v1.Platform, depth int) ([]Target, error) {
	if depth > maxIndexDepth {
		return nil, fmt.Errorf("%s: indexes nested deeper than %d", nameStr, maxIndexDepth)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: read index: %w", nameStr, err)
	}
	var (
		out  []Target
		seen []string
	)
	for _, d := range m.Manifests {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if isAttestation(d) {
			continue
		}
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("%s: open index %s: %w", nameStr, d.Digest, err)
			}
			ts, err := expandIndex(ctx, nameStr, child, want, depth+1)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			out = append(out, ts...)
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("%s: open image %s: %w", nameStr, d.Digest, err)
			}
			p, err := platformOf(d.Platform, img)
			if err != nil {
				return nil, fmt.Errorf("%s: image %s: %w", nameStr, d.Digest, err)
			}
			seen = append(seen, platformString(p))
			if want != nil && (p == nil || !p.Satisfies(*want)) {
				continue
			}
			out = append(out, Target{Name: nameStr, Platform: platformString(p), Image: img})
		}
	}
	if len(out) == 0 {
		if want != nil {
			return nil, fmt.Errorf("%s has no image for platform %s; platforms: %s: %w", nameStr, platformString(want), listOrNone(seen), ErrNotFound)
		}
		return nil, fmt.Errorf("%s: index holds no images: %w", nameStr, ErrNotFound)
	}
	return out, nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}
