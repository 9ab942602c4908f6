package imageref

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
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
	// Timeouts bound every registry request; zero fields take the
	// defaults of DefaultTimeouts.
	Timeouts Timeouts
}

// Timeouts bound a registry that stops answering. Every request (token,
// manifest, blob) gets them; a timeout ends the scan with an error, never
// with a verdict.
type Timeouts struct {
	// Dial bounds the TCP connect.
	Dial time.Duration
	// TLSHandshake bounds the TLS handshake.
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait from sending a request to its
	// response headers.
	ResponseHeader time.Duration
	// Progress is the body deadline: within every Progress period a body
	// must deliver ProgressBytes or end, so a registry that falls silent or
	// drips a byte at a time is cut off.
	Progress time.Duration
	// ProgressBytes is what a body must deliver per Progress period.
	ProgressBytes int64
}

// DefaultTimeouts are generous for any working registry: a body must move
// 32 KiB per minute.
var DefaultTimeouts = Timeouts{
	Dial:           30 * time.Second,
	TLSHandshake:   30 * time.Second,
	ResponseHeader: 60 * time.Second,
	Progress:       60 * time.Second,
	ProgressBytes:  32 << 10,
}

// MaxRedirects caps the redirects a registry request follows, as Go's
// http.Client does by default.
const MaxRedirects = 10

// Target is one image to scan.
type Target struct {
	// Name says where the image came from: "DIR:NAME", "FILE@sha256:...",
	// "registry.example/repo:tag".
	Name string
	// Platform is Platforms joined with ",", or "" when the image does not
	// say.
	Platform string
	// Platforms lists every "os/arch[/variant]" an index maps to this
	// image: an index that lists one manifest under many platforms yields
	// one Target, scanned once.
	Platforms []string
	Image     v1.Image
	// Remote: the image comes from a registry; its layers are fetched
	// as they are read (see LayersAtOnce).
	Remote bool
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
		if err != nil || p.OS == "" || p.Architecture == "" || strings.Count(opts.Platform, "/") > 2 {
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
		if _, err := os.Lstat(filepath.Join(l.path, "index.json")); err != nil {
			return nil, fmt.Errorf("%s is a directory but not an OCI image layout (no index.json); write one with `crane pull --format=oci` or `docker buildx build --output type=oci,tar=false`", l.path)
		}
		rs, err := openRoot(l.path)
		if err != nil {
			return nil, err
		}
		src = rs
	} else {
		ts, kind, err := openTar(l.path)
		if err != nil {
			return nil, err
		}
		if kind == tarDockerArchive {
			return openDockerArchive(ts, l, want)
		}
		src = ts
	}
	if err := checkLayoutFile(src, l.path); err != nil {
		return nil, err
	}
	idx := &layoutIndex{src: src, where: l.path}
	return selectFromLayout(ctx, idx, l, want)
}

// maxLayoutFileBytes bounds the oci-layout file ({"imageLayoutVersion":
// "1.0.0"}).
const maxLayoutFileBytes = 4 << 10

// checkLayoutFile reads the layout's oci-layout file, when there is one,
// the way every other layout file is read: regular files only, bounded.
func checkLayoutFile(src blobSource, where string) error {
	raw, err := readBounded(src, "oci-layout", maxLayoutFileBytes, v1.Hash{})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: oci-layout: %w", where, err)
	}
	var v struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.Version == "" {
		return fmt.Errorf("%s: oci-layout is not an OCI layout marker (want {\"imageLayoutVersion\": \"1.0.0\"})", where)
	}
	return nil
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
	if want != nil && !runsOn(want).Match(specPlatform(p)) {
		return nil, fmt.Errorf("%s is a single-platform image for %q, not %s: %w", nameStr, platformString(p), platformString(want), ErrNotFound)
	}
	return []Target{newTarget(nameStr, img, platformString(p))}, nil
}

func newTarget(nameStr string, img v1.Image, platform string) Target {
	t := Target{Name: nameStr, Image: img}
	t.addPlatform(platform)
	return t
}

func (t *Target) addPlatform(p string) {
	if p == "" {
		return
	}
	for _, q := range t.Platforms {
		if q == p {
			return
		}
	}
	t.Platforms = append(t.Platforms, p)
	t.Platform = strings.Join(t.Platforms, ",")
}

// runsOn is how containerd picks an index entry for a platform (its
// default resolution: linux/amd64 also runs linux/386, linux/arm64 also
// runs linux/arm/v7, architectures and variants normalized), so strata
// scans what a runtime asked for want would run.
func runsOn(want *v1.Platform) platforms.MatchComparer {
	return platforms.Only(specPlatform(want))
}

func specPlatform(p *v1.Platform) specs.Platform {
	if p == nil {
		return specs.Platform{}
	}
	return platforms.Normalize(specs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures})
}

// isAttestation reports BuildKit's provenance/SBOM manifests, which BuildKit
// writes with both the attestation annotation and platform unknown/unknown.
// Only both together make an entry skippable: a runtime picks by platform,
// so an annotated entry with a real platform is an image it would run.
func isAttestation(d v1.Descriptor) bool {
	return d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" &&
		d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// candidate is an image of an index that matches the wanted platform.
type candidate struct {
	digest   v1.Hash
	img      v1.Image
	platform *v1.Platform
}

// expander walks an index tree once: each distinct manifest is opened and
// its config read at most once, each distinct child index expanded once,
// however many entries point at them.
type expander struct {
	ctx     context.Context
	name    string
	want    *v1.Platform
	images  map[v1.Hash]v1.Image
	cfgPlat map[v1.Hash]*v1.Platform
	indexes map[v1.Hash]bool
	seen    map[string]bool
	found   []candidate
}

// expandIndex returns the images of idx (recursively) a runtime would run
// for want, one Target per distinct manifest; with want nil, every image
// except BuildKit attestations.
func expandIndex(ctx context.Context, nameStr string, idx v1.ImageIndex, want *v1.Platform, depth int) ([]Target, error) {
	e := &expander{ctx: ctx, name: nameStr, want: want, images: map[v1.Hash]v1.Image{},
		cfgPlat: map[v1.Hash]*v1.Platform{}, indexes: map[v1.Hash]bool{}, seen: map[string]bool{}}
	if err := e.walk(idx, depth); err != nil {
		return nil, err
	}
	found := e.found
	if want != nil {
		found = best(runsOn(want), found)
	}
	var out []Target
	at := map[v1.Hash]int{}
	for _, c := range found {
		i, ok := at[c.digest]
		if !ok {
			i = len(out)
			at[c.digest] = i
			out = append(out, newTarget(nameStr, c.img, ""))
		}
		out[i].addPlatform(platformString(c.platform))
	}
	if len(out) == 0 {
		if want != nil {
			seen := make([]string, 0, len(e.seen))
			for p := range e.seen {
				seen = append(seen, p)
			}
			sort.Strings(seen)
			return nil, fmt.Errorf("%s has no image for platform %s; platforms: %s: %w", nameStr, platformString(want), listShort(seen), ErrNotFound)
		}
		return nil, fmt.Errorf("%s: index holds no images: %w", nameStr, ErrNotFound)
	}
	return out, nil
}

// best keeps the candidates containerd ranks first for the platform: it
// runs the first of them in index order, strata scans them all, so ties
// between two manifests for one platform cannot hide either.
func best(m platforms.MatchComparer, cs []candidate) []candidate {
	if len(cs) == 0 {
		return nil
	}
	top := specPlatform(cs[0].platform)
	for _, c := range cs[1:] {
		if p := specPlatform(c.platform); m.Less(p, top) {
			top = p
		}
	}
	var out []candidate
	for _, c := range cs {
		if !m.Less(top, specPlatform(c.platform)) {
			out = append(out, c)
		}
	}
	return out
}

func (e *expander) walk(idx v1.ImageIndex, depth int) error {
	if depth > maxIndexDepth {
		return fmt.Errorf("%s: indexes nested deeper than %d", e.name, maxIndexDepth)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("%s: read index: %w", e.name, err)
	}
	var match platforms.MatchComparer
	if e.want != nil {
		match = runsOn(e.want)
	}
	for _, d := range m.Manifests {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		if isAttestation(d) {
			continue
		}
		switch {
		case d.MediaType.IsIndex():
			if e.indexes[d.Digest] {
				continue
			}
			e.indexes[d.Digest] = true
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return fmt.Errorf("%s: open index %s: %w", e.name, d.Digest, err)
			}
			if err := e.walk(child, depth+1); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			img, ok := e.images[d.Digest]
			if !ok {
				if img, err = idx.Image(d.Digest); err != nil {
					return fmt.Errorf("%s: open image %s: %w", e.name, d.Digest, err)
				}
				e.images[d.Digest] = img
			}
			p := d.Platform
			if p == nil || p.OS == "" {
				if p, ok = e.cfgPlat[d.Digest]; !ok {
					if p, err = platformOf(nil, img); err != nil {
						return fmt.Errorf("%s: image %s: %w", e.name, d.Digest, err)
					}
					e.cfgPlat[d.Digest] = p
				}
			}
			e.seen[platformString(p)] = true
			if match != nil && !match.Match(specPlatform(p)) {
				continue
			}
			e.found = append(e.found, candidate{digest: d.Digest, img: img, platform: p})
		}
	}
	return nil
}

// listShort lists at most 20 strings.
func listShort(s []string) string {
	const show = 20
	if len(s) > show {
		return strings.Join(s[:show], ", ") + fmt.Sprintf(", ... (%d more)", len(s)-show)
	}
	return listOrNone(s)
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}
