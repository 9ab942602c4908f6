package imageref

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerEntry is one image of a docker-archive's manifest.json, the format
// `docker save` writes and `docker load` reads.
type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// parseDockerManifest parses a docker-archive's manifest.json.
func parseDockerManifest(raw []byte) ([]dockerEntry, error) {
	var m []dockerEntry
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.json is not a docker-archive manifest: %w", err)
	}
	for i, e := range m {
		if e.Config == "" {
			return nil, fmt.Errorf("manifest.json entry %d names no config", i)
		}
		for j, l := range e.Layers {
			if l == "" {
				return nil, fmt.Errorf("manifest.json entry %d: layer %d has no path", i, j)
			}
		}
	}
	return m, nil
}

// sameTag reports whether two tags name the same image once parsed
// ("app:1" and "docker.io/library/app:1" do).
func sameTag(a, b string) bool {
	ta, err1 := name.NewTag(a)
	tb, err2 := name.NewTag(b)
	return err1 == nil && err2 == nil && ta.Name() == tb.Name()
}

// openDockerArchive reads a `docker save` tarball in place from the
// indexed tar ts; images are selected by tag. manifest.json and the config
// are size-checked before they are read and parsed once.
func openDockerArchive(ts *tarSource, l local, want *v1.Platform) ([]Target, error) {
	raw, err := readBounded(ts, "manifest.json", MaxIndexBytes, v1.Hash{})
	if err != nil {
		return nil, fmt.Errorf("%s: read docker-archive manifest.json: %w", l.path, err)
	}
	m, err := parseDockerManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.path, err)
	}
	var tags []string
	for _, d := range m {
		tags = append(tags, d.RepoTags...)
	}
	if l.digest != (v1.Hash{}) {
		return nil, fmt.Errorf("%s is a docker-archive: select its images by tag (%s:REPO:TAG), not by digest; tags: %s", l.path, l.path, listShort(tags))
	}
	var entry dockerEntry
	nameStr := l.path
	switch {
	case l.name != "":
		if _, err := name.NewTag(l.name); err != nil {
			return nil, fmt.Errorf("%s: %q is not a tag: %w", l.path, l.name, err)
		}
		found := false
		// docker load tags the entries in order, so when two entries
		// carry one tag the last one keeps it: that is what `docker run
		// TAG` would run after loading.
		for _, d := range m {
			for _, s := range d.RepoTags {
				if sameTag(s, l.name) {
					entry, found = d, true
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("no image tagged %q in docker-archive %s; tags: %s: %w", l.name, l.path, listShort(tags), ErrNotFound)
		}
		nameStr = l.path + ":" + l.name
	case len(m) == 0:
		return nil, fmt.Errorf("docker-archive %s holds no images", l.path)
	case len(m) > 1:
		return nil, fmt.Errorf("docker-archive %s holds %d images; pick one with %s:REPO:TAG; tags: %s", l.path, len(m), l.path, listShort(tags))
	default:
		entry = m[0]
		if len(entry.RepoTags) > 0 {
			nameStr = l.path + ":" + strings.Join(entry.RepoTags, ",")
		}
	}
	img, err := newArchiveImage(ts, entry)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameStr, err)
	}
	return single(nameStr, img, nil, want)
}

// archiveImage is one image of a docker-archive. The archive has no image
// manifest, so one is made from the layer members: uncompressed layers
// (what docker save writes) get their diffID as digest, which the walker
// checks when it reads them; compressed ones are hashed once each.
type archiveImage struct {
	ts      *tarSource
	entry   dockerEntry
	config  []byte
	diffIDs []v1.Hash

	once     sync.Once
	manifest *v1.Manifest
	raw      []byte
	byDigest map[v1.Hash]int
	err      error
}

func newArchiveImage(ts *tarSource, e dockerEntry) (v1.Image, error) {
	cfg, err := readBounded(ts, e.Config, MaxConfigBytes, v1.Hash{})
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", e.Config, err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cfg))
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", e.Config, err)
	}
	if len(cf.RootFS.DiffIDs) != len(e.Layers) {
		return nil, fmt.Errorf("config has %d rootfs.diff_ids but manifest.json lists %d layers: the archive is corrupt (docker load refuses it too)", len(cf.RootFS.DiffIDs), len(e.Layers))
	}
	return partial.CompressedToImage(&archiveImage{ts: ts, entry: e, config: cfg, diffIDs: cf.RootFS.DiffIDs})
}

func (a *archiveImage) RawConfigFile() ([]byte, error) { return a.config, nil }

func (a *archiveImage) MediaType() (types.MediaType, error) {
	return types.DockerManifestSchema2, nil
}

func (a *archiveImage) RawManifest() ([]byte, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	return a.raw, nil
}

func (a *archiveImage) load() error {
	a.once.Do(func() {
		cfgHash, cfgSize, err := v1.SHA256(bytes.NewReader(a.config))
		if err != nil {
			a.err = err
			return
		}
		m := &v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.DockerManifestSchema2,
			Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: cfgSize, Digest: cfgHash},
			Layers:        make([]v1.Descriptor, len(a.entry.Layers)),
		}
		a.byDigest = map[v1.Hash]int{}
		// Many entries may name one member (docker save links repeated
		// layers): each member is looked at once.
		type seen struct {
			d          v1.Descriptor
			compressed bool
		}
		members := map[string]seen{}
		for i, p := range a.entry.Layers {
			s, ok := members[p]
			if !ok {
				if s.d, s.compressed, err = a.describe(p); err != nil {
					a.err = fmt.Errorf("layer %d (%s): %w", i, p, err)
					return
				}
				members[p] = s
			}
			d := s.d
			if !s.compressed {
				d.Digest = a.diffIDs[i]
			}
			m.Layers[i] = d
			if _, dup := a.byDigest[d.Digest]; !dup {
				a.byDigest[d.Digest] = i
			}
		}
		a.manifest = m
		a.raw, a.err = json.Marshal(m)
	})
	return a.err
}

// describe peeks at a layer member: its size, media type, and for a
// compressed member its digest.
func (a *archiveImage) describe(p string) (v1.Descriptor, bool, error) {
	rc, size, err := a.ts.open(p)
	if err != nil {
		return v1.Descriptor{}, false, err
	}
	defer rc.Close()
	magic := make([]byte, 4)
	n, err := io.ReadFull(rc, magic)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return v1.Descriptor{}, false, err
	}
	magic = magic[:n]
	d := v1.Descriptor{Size: size, MediaType: types.DockerUncompressedLayer}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		d.MediaType = types.DockerLayer
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		d.MediaType = types.OCILayerZStd
	default:
		return d, false, nil
	}
	h, _, err := v1.SHA256(io.MultiReader(bytes.NewReader(magic), rc))
	if err != nil {
		return v1.Descriptor{}, false, err
	}
	d.Digest = h
	return d, true, nil
}

func (a *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	if h == a.manifest.Config.Digest {
		return &archiveBlob{a: a, desc: a.manifest.Config, config: true}, nil
	}
	i, ok := a.byDigest[h]
	if !ok {
		return nil, fmt.Errorf("no layer %s in the docker-archive", h)
	}
	return &archiveBlob{a: a, desc: a.manifest.Layers[i], member: a.entry.Layers[i], diffID: a.diffIDs[i]}, nil
}

// archiveBlob is a layer member of a docker-archive, or its config.
type archiveBlob struct {
	a      *archiveImage
	desc   v1.Descriptor
	member string
	diffID v1.Hash
	config bool
}

func (b *archiveBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *archiveBlob) Size() (int64, error)                { return b.desc.Size, nil }
func (b *archiveBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }

// DiffID is the config's, so asking for it reads no layer.
func (b *archiveBlob) DiffID() (v1.Hash, error) {
	if b.config {
		return b.desc.Digest, nil
	}
	return b.diffID, nil
}

func (b *archiveBlob) Compressed() (io.ReadCloser, error) {
	if b.config {
		return io.NopCloser(bytes.NewReader(b.a.config)), nil
	}
	rc, _, err := b.a.ts.open(b.member)
	return rc, err
}
