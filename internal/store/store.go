package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

// Annotation keys written on index entries. RefName is the OCI standard key;
// the others are strata's and describe where an image came from.
const (
	RefName            = "org.opencontainers.image.ref.name"
	AnnExperiment      = "dev.strata.experiment"
	AnnCase            = "dev.strata.case"
	AnnMutation        = "dev.strata.mutation"
	AnnMutationVersion = "dev.strata.mutation.version"
	AnnSeed            = "dev.strata.seed"
	AnnLabel           = "dev.strata.label"
	AnnMaliciousLayers = "dev.strata.malicious-layers"
	AnnMaliciousConfig = "dev.strata.malicious-config"
	AnnInputs          = "dev.strata.inputs"
)

// ErrNotFound is returned when no index entry matches.
var ErrNotFound = errors.New("image not found in store")

// Store is an OCI image layout with a lock around index.json so concurrent
// builds can register images safely within one process.
type Store struct {
	dir  string
	path layout.Path
	mu   sync.Mutex

	csOnce sync.Once
	cs     content.Store
	csErr  error
}

// Open opens the layout at dir, creating an empty one if dir has none.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p, err := layout.FromPath(abs)
	if err != nil {
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("create store %s: %w", abs, err)
		}
		p, err = layout.Write(abs, empty.Index)
		if err != nil {
			return nil, fmt.Errorf("init store %s: %w", abs, err)
		}
	}
	return &Store{dir: abs, path: p}, nil
}

// Dir is the absolute path of the layout.
func (s *Store) Dir() string { return s.dir }

// ContentStore returns a containerd content store over the layout's blobs,
// the form in which BuildKit reads base images and writes build results.
func (s *Store) ContentStore() (content.Store, error) {
	s.csOnce.Do(func() {
		s.cs, s.csErr = local.NewStore(s.dir)
		if s.csErr != nil {
			s.csErr = fmt.Errorf("open content store %s: %w", s.dir, s.csErr)
		}
	})
	return s.cs, s.csErr
}

// Entry is one image registered in the index.
type Entry struct {
	Descriptor v1.Descriptor
}

// Name is the entry's ref name.
func (e Entry) Name() string { return e.Descriptor.Annotations[RefName] }

// Annotation returns one annotation value.
func (e Entry) Annotation(k string) string { return e.Descriptor.Annotations[k] }

// Entries lists every index entry, sorted by name then digest.
func (s *Store) Entries() ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entriesLocked()
}

func (s *Store) entriesLocked() ([]Entry, error) {
	idx, err := s.path.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read store index: %w", err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read store index: %w", err)
	}
	out := make([]Entry, 0, len(m.Manifests))
	for _, d := range m.Manifests {
		out = append(out, Entry{Descriptor: d})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name() != out[j].Name() {
			return out[i].Name() < out[j].Name()
		}
		return out[i].Descriptor.Digest.String() < out[j].Descriptor.Digest.String()
	})
	return out, nil
}

// Lookup finds the entry with the given ref name.
func (s *Store) Lookup(name string) (Entry, error) {
	es, err := s.Entries()
	if err != nil {
		return Entry{}, err
	}
	for _, e := range es {
		if e.Name() == name {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%q: %w", name, ErrNotFound)
}

// Image opens the image with the given manifest digest.
func (s *Store) Image(h v1.Hash) (v1.Image, error) {
	// layout.Path.Image reads index.json, which Register rewrites in place:
	// read it under the same lock.
	s.mu.Lock()
	defer s.mu.Unlock()
	img, err := s.path.Image(h)
	if err != nil {
		return nil, fmt.Errorf("open image %s from store: %w", h, err)
	}
	return img, nil
}

// Register records a manifest whose blobs are already in the store (written
// by BuildKit) under name, replacing any previous entry of that name.
func (s *Store) Register(desc v1.Descriptor, name string, ann map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	desc.Annotations = merge(ann, name)
	if err := s.path.RemoveDescriptors(match.Annotation(RefName, name)); err != nil {
		return fmt.Errorf("replace %q in store: %w", name, err)
	}
	if err := s.path.AppendDescriptor(desc); err != nil {
		return fmt.Errorf("register %q in store: %w", name, err)
	}
	return nil
}

// Put writes an image made with go-containerregistry (blobs stored once) and
// registers it under name, replacing any previous entry of that name.
func (s *Store) Put(img v1.Image, name string, ann map[string]string) (v1.Descriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.path.WriteImage(img); err != nil {
		return v1.Descriptor{}, fmt.Errorf("write %q to store: %w", name, err)
	}
	d, err := descriptorOf(img)
	if err != nil {
		return v1.Descriptor{}, err
	}
	d.Annotations = merge(ann, name)
	if err := s.path.RemoveDescriptors(match.Annotation(RefName, name)); err != nil {
		return v1.Descriptor{}, fmt.Errorf("replace %q in store: %w", name, err)
	}
	if err := s.path.AppendDescriptor(d); err != nil {
		return v1.Descriptor{}, fmt.Errorf("register %q in store: %w", name, err)
	}
	return d, nil
}

func descriptorOf(img v1.Image) (v1.Descriptor, error) {
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	dg, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	sz, err := img.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: dg, Size: sz}, nil
}

func merge(ann map[string]string, name string) map[string]string {
	out := make(map[string]string, len(ann)+1)
	for k, v := range ann {
		out[k] = v
	}
	out[RefName] = name
	return out
}
