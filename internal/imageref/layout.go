package imageref

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations that name layout entries: the OCI standard one, and
// containerd's (docker save writes the full reference there).
const (
	annRefName        = "org.opencontainers.image.ref.name"
	annContainerdName = "io.containerd.image.name"
)

// blobSource serves the files of an OCI image layout by slash-separated
// path ("index.json", "blobs/sha256/HEX").
type blobSource interface {
	open(name string) (io.ReadCloser, int64, error)
}

func blobPath(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

// readBounded reads a whole layout file of at most limit bytes and, when
// want is set, checks that it hashes to want.
func readBounded(src blobSource, name string, limit int64, want v1.Hash) ([]byte, error) {
	rc, size, err := src.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The size check comes before any read: a 500 MB config in an archive
	// is refused, not read.
	if size > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d strata reads for it", name, size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is more than the %d bytes strata reads for it", name, limit)
	}
	if want != (v1.Hash{}) {
		got, _, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if got != want {
			return nil, fmt.Errorf("%s hashes to %s: the layout is corrupt", name, got)
		}
	}
	return b, nil
}

// layoutIndex is index.json (digest zero) or an index blob of a layout, as a
// v1.ImageIndex.
type layoutIndex struct {
	src    blobSource
	where  string
	digest v1.Hash

	once sync.Once
	raw  []byte
	m    *v1.IndexManifest
	err  error
}

var _ v1.ImageIndex = (*layoutIndex)(nil)

func (x *layoutIndex) load() error {
	x.once.Do(func() {
		file := "index.json"
		if x.digest != (v1.Hash{}) {
			file = blobPath(x.digest)
		}
		x.raw, x.err = readBounded(x.src, file, MaxIndexBytes, x.digest)
		if x.err != nil {
			if errors.Is(x.err, os.ErrNotExist) {
				x.err = fmt.Errorf("%s: %s is missing: %w", x.where, file, x.err)
			}
			return
		}
		x.m, x.err = v1.ParseIndexManifest(bytes.NewReader(x.raw))
		if x.err != nil {
			x.err = fmt.Errorf("%s: parse %s: %w", x.where, file, x.err)
		}
	})
	return x.err
}

func (x *layoutIndex) MediaType() (types.MediaType, error) {
	if err := x.load(); err != nil {
		return "", err
	}
	if x.m.MediaType != "" {
		return x.m.MediaType, nil
	}
	return types.OCIImageIndex, nil
}

func (x *layoutIndex) Digest() (v1.Hash, error) {
	if err := x.load(); err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(x.raw))
	return h, err
}

func (x *layoutIndex) Size() (int64, error) {
	if err := x.load(); err != nil {
		return 0, err
	}
	return int64(len(x.raw)), nil
}

func (x *layoutIndex) IndexManifest() (*v1.IndexManifest, error) {
	if err := x.load(); err != nil {
		return nil, err
	}
	return x.m.DeepCopy(), nil
}

func (x *layoutIndex) RawManifest() ([]byte, error) {
	if err := x.load(); err != nil {
		return nil, err
	}
	return x.raw, nil
}

func (x *layoutIndex) Image(h v1.Hash) (v1.Image, error) {
	raw, err := readBounded(x.src, blobPath(h), MaxManifestBytes, h)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest %s: %w", x.where, h, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: parse manifest %s: %w", x.where, h, err)
	}
	return partial.CompressedToImage(&layoutImage{src: x.src, where: x.where, raw: raw, m: m})
}

func (x *layoutIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	child := &layoutIndex{src: x.src, where: x.where, digest: h}
	if err := child.load(); err != nil {
		return nil, err
	}
	return child, nil
}

// layoutImage is one image manifest of a layout; partial.CompressedToImage
// derives the rest of v1.Image from it (and the detectors read its layers
// as blobs, decompressing them themselves).
type layoutImage struct {
	src   blobSource
	where string
	raw   []byte
	m     *v1.Manifest
}

func (i *layoutImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *layoutImage) MediaType() (types.MediaType, error) {
	if i.m.MediaType != "" {
		return i.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (i *layoutImage) RawConfigFile() ([]byte, error) {
	b, err := readBounded(i.src, blobPath(i.m.Config.Digest), MaxConfigBytes, i.m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", i.where, err)
	}
	return b, nil
}

func (i *layoutImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.m.Config.Digest {
		return &layoutBlob{src: i.src, desc: i.m.Config}, nil
	}
	for _, d := range i.m.Layers {
		if d.Digest == h {
			return &layoutBlob{src: i.src, desc: d}, nil
		}
	}
	return nil, fmt.Errorf("%s: no layer %s in manifest", i.where, h)
}

// layoutBlob is a layer blob, read on demand.
type layoutBlob struct {
	src  blobSource
	desc v1.Descriptor
}

func (b *layoutBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *layoutBlob) Size() (int64, error)                { return b.desc.Size, nil }
func (b *layoutBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }

func (b *layoutBlob) Compressed() (io.ReadCloser, error) {
	rc, size, err := b.src.open(blobPath(b.desc.Digest))
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", b.desc.Digest, err)
	}
	if size != b.desc.Size {
		rc.Close()
		return nil, fmt.Errorf("blob %s is %d bytes, the manifest says %d: the layout is corrupt", b.desc.Digest, size, b.desc.Size)
	}
	return rc, nil
}

// entryName is how a layout entry is called, for messages and selection.
func entryName(d v1.Descriptor) string {
	if n := d.Annotations[annRefName]; n != "" {
		return n
	}
	return d.Annotations[annContainerdName]
}

// matchesName reports whether sel names d: its ref name, its containerd
// name, or a reference equal to the containerd name once both are parsed
// (docker save writes "docker.io/library/x:1"; "x:1" should find it).
func matchesName(d v1.Descriptor, sel string) bool {
	rn, cn := d.Annotations[annRefName], d.Annotations[annContainerdName]
	if sel == rn || sel == cn {
		return true
	}
	if cn == "" {
		return false
	}
	a, err1 := name.ParseReference(sel)
	b, err2 := name.ParseReference(cn)
	return err1 == nil && err2 == nil && a.Name() == b.Name()
}

// listNames lists entry names (digests for unnamed entries), at most 20.
func listNames(ds []v1.Descriptor) string {
	var names []string
	for _, d := range ds {
		if n := entryName(d); n != "" {
			names = append(names, n)
		} else {
			names = append(names, "@"+d.Digest.String())
		}
	}
	sort.Strings(names)
	const show = 20
	if len(names) > show {
		return strings.Join(names[:show], ", ") + fmt.Sprintf(", ... (%d more)", len(names)-show)
	}
	return listOrNone(names)
}

// selectFromLayout picks the layout entry l selects and expands it.
func selectFromLayout(ctx context.Context, idx *layoutIndex, l local, want *v1.Platform) ([]Target, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var picked []v1.Descriptor
	switch {
	case l.name != "":
		for _, d := range m.Manifests {
			if matchesName(d, l.name) {
				picked = append(picked, d)
			}
		}
		if len(picked) == 0 {
			return nil, fmt.Errorf("no image named %q in layout %s; names: %s: %w", l.name, l.path, listNames(m.Manifests), ErrNotFound)
		}
	case l.digest != (v1.Hash{}):
		for _, d := range m.Manifests {
			if d.Digest == l.digest {
				picked = append(picked, d)
				break
			}
		}
		if len(picked) == 0 {
			// Not an entry: perhaps one platform's manifest inside an index.
			d, err := blobDescriptor(idx.src, l.digest)
			if err != nil {
				return nil, fmt.Errorf("no image with digest %s in layout %s (%v); entries: %s: %w", l.digest, l.path, err, listNames(m.Manifests), ErrNotFound)
			}
			picked = append(picked, d)
		}
	default:
		switch {
		case len(m.Manifests) == 0:
			return nil, fmt.Errorf("layout %s holds no images", l.path)
		case len(m.Manifests) > 1 && !platformSet(m.Manifests):
			return nil, fmt.Errorf("layout %s holds %d images; pick one with %s:NAME or %s@sha256:...; names: %s", l.path, len(m.Manifests), l.path, l.path, listNames(m.Manifests))
		case len(m.Manifests) > 1:
			// One image's platforms listed directly in index.json.
			return expandIndex(ctx, l.path, idx, want, 1)
		}
		picked = m.Manifests
	}
	if len(picked) > 1 {
		var ds []string
		for _, d := range picked {
			ds = append(ds, d.Digest.String())
		}
		return nil, fmt.Errorf("%d images are named %q in layout %s; pick one by digest (%s@sha256:...): %s", len(picked), l.name, l.path, l.path, strings.Join(ds, ", "))
	}
	d := picked[0]
	nameStr := l.path + l.selector()
	if l.selector() == "" {
		if n := entryName(d); n != "" {
			nameStr = l.path + ":" + n
		}
	}
	switch {
	case d.MediaType.IsIndex():
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, err
		}
		return expandIndex(ctx, nameStr, child, want, 1)
	case d.MediaType.IsImage():
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		return single(nameStr, img, d.Platform, want)
	}
	return nil, fmt.Errorf("%s is a %q, not an image or an index", nameStr, d.MediaType)
}

// platformSet reports whether entries are one image's platforms: all
// unnamed, all with a platform.
func platformSet(ds []v1.Descriptor) bool {
	for _, d := range ds {
		if entryName(d) != "" || d.Platform == nil {
			return false
		}
	}
	return true
}

// blobDescriptor describes a manifest or index blob of the layout from its
// own mediaType field.
func blobDescriptor(src blobSource, h v1.Hash) (v1.Descriptor, error) {
	raw, err := readBounded(src, blobPath(h), MaxManifestBytes, h)
	if err != nil {
		return v1.Descriptor{}, err
	}
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return v1.Descriptor{}, fmt.Errorf("blob %s is not a manifest: %w", h, err)
	}
	mt := probe.MediaType
	if mt == "" {
		mt = types.OCIManifestSchema1
		if probe.Manifests != nil {
			mt = types.OCIImageIndex
		}
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(raw))}, nil
}
