package mutations

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Mutation is one polymorphic mutation type. Every type also implements
// DockerfileMutation or ImageMutation.
type Mutation interface {
	// Name is the registry key, e.g. "dummy-echo".
	Name() string
	// Version changes whenever the output for a given input and seed
	// changes, so records and cached builds keyed by it are not reused.
	Version() string
	// Description says in one sentence what the mutation does.
	Description() string
	// PaperRef names the paper's table entry the type reproduces, e.g.
	// "Table 4: execute dummy command", or "" for types the paper lacks.
	PaperRef() string
}

// Env is what a Dockerfile mutation may need from the harness.
type Env struct {
	// ServerURL is the harness's loopback HTTP server (no trailing slash
	// needed), which serves DummyNetworkFiles. Only dummy-network uses it.
	ServerURL string
	// BaseWorkdir is the working directory the final stage inherits from
	// its external base image (image config WorkingDir; "" means "/"). The
	// Dockerfile text cannot tell it, so the harness reads it from the
	// stored base image. Only variable-workdir uses it.
	BaseWorkdir string
	// NoWget says the image has no wget (a Debian minbase image without the
	// package): dummy-network then downloads with bash's /dev/tcp, which
	// every Debian image has, instead of the paper's wget. The corpus
	// sample has wget; experiment 3's benign controls may not.
	NoWget bool
}

// DockerfileMutation edits Dockerfile text. It returns a new slice and never
// modifies src.
type DockerfileMutation interface {
	Mutation
	MutateDockerfile(src []byte, rng *rand.Rand, env Env) ([]byte, error)
}

// ImageMutation rewrites a built image. layerMap[i] is the new index of old
// layer i, -1 if the layer was dropped; several old layers map to the same
// new index when they were squashed together.
type ImageMutation interface {
	Mutation
	MutateImage(img v1.Image, rng *rand.Rand) (out v1.Image, layerMap []int, err error)
}

// ErrUnknown is returned by Get for a name that is not registered.
// Payload is what a PayloadMutation rewrites: the Dockerfile, a private
// writable copy of the build context its ADD/COPY instructions read, and the
// SOURCE_DATE_EPOCH the image is built with.
type Payload struct {
	Dockerfile []byte
	// Dir is the build context: a private copy the mutation may change
	// (add, rewrite, rename or delete files). Hard links into shared caches
	// are never present: every file is the mutation's own.
	Dir string
	// Epoch is the SOURCE_DATE_EPOCH (with rewrite-timestamp) of the build;
	// a mutation may change it. Nil means the build is not reproducible.
	Epoch *time.Time
}

// PayloadMutation changes the payload, not only the layers around it
// (experiment 3): it rewrites the Dockerfile and the files of the build
// context, and may change the build's timestamp. It returns an error
// wrapping ErrNotApplicable when the Dockerfile has nothing the type
// changes (say, no file added from the context); the harness then skips
// that (image, type) pair and reports the count.
type PayloadMutation interface {
	Mutation
	MutatePayload(p *Payload, rng *rand.Rand, env Env) error
}

var ErrUnknown = errors.New("unknown mutation type")

// ErrNotApplicable says a mutation type has nothing to change in an image.
var ErrNotApplicable = errors.New("mutation type not applicable")

var (
	regMu    sync.RWMutex
	registry = map[string]Mutation{}
)

// Register adds m to the registry. It panics on an empty or duplicate name
// or on a type that is neither a Dockerfile nor an image mutation: both are
// programming errors found at init time.
func Register(m Mutation) {
	regMu.Lock()
	defer regMu.Unlock()
	name := m.Name()
	if name == "" {
		panic("mutations: Register with an empty name")
	}
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("mutations: duplicate mutation type %q", name))
	}
	if Kind(m) == "" {
		panic(fmt.Sprintf("mutations: %q implements none of DockerfileMutation, ImageMutation, PayloadMutation", name))
	}
	registry[name] = m
}

// All returns every registered mutation sorted by name, so runs iterate in
// the same order everywhere.
func All() []Mutation {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Mutation, 0, len(registry))
	for _, m := range registry {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Get returns the mutation registered under name.
func Get(name string) (Mutation, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	m, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("mutation %q: %w", name, ErrUnknown)
	}
	return m, nil
}

// Kind is "dockerfile" or "image" by the interface m implements ("" for
// neither).
func Kind(m Mutation) string {
	switch m.(type) {
	case DockerfileMutation:
		return "dockerfile"
	case ImageMutation:
		return "image"
	case PayloadMutation:
		return "payload"
	}
	return ""
}

// NewRand returns the random stream of one mutation type for one seed. The
// stream is derived from SHA-256 of (seed, name), so two types applied with
// the same seed do not share random choices, and adding a type or drawing
// more numbers in one type never shifts another type's samples.
func NewRand(seed int64, name string) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	h.Write([]byte("strata/mutations\x00"))
	h.Write(b[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])))
}

// ApplyDockerfile applies m to src with the stream NewRand(seed, m.Name()).
func ApplyDockerfile(m DockerfileMutation, src []byte, seed int64, env Env) ([]byte, error) {
	out, err := m.MutateDockerfile(src, NewRand(seed, m.Name()), env)
	if err != nil {
		return nil, fmt.Errorf("mutation %s (seed %d): %w", m.Name(), seed, err)
	}
	return out, nil
}

// ApplyImage applies m to img with the stream NewRand(seed, m.Name()).
func ApplyImage(m ImageMutation, img v1.Image, seed int64) (v1.Image, []int, error) {
	out, lm, err := m.MutateImage(img, NewRand(seed, m.Name()))
	if err != nil {
		return nil, nil, fmt.Errorf("mutation %s (seed %d): %w", m.Name(), seed, err)
	}
	return out, lm, nil
}

// ApplyPayload runs m on p with the rng of (seed, m's name).
func ApplyPayload(m PayloadMutation, p *Payload, seed int64, env Env) error {
	if err := m.MutatePayload(p, NewRand(seed, m.Name()), env); err != nil {
		return fmt.Errorf("mutation %s (seed %d): %w", m.Name(), seed, err)
	}
	return nil
}

// OfKind returns the registered types of the given kinds ("dockerfile",
// "image", "payload"), sorted by name. Experiment 2 runs the layer-level
// kinds (the paper's), experiment 3 the payload kind.
func OfKind(kinds ...string) []Mutation {
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var out []Mutation
	for _, m := range All() {
		if want[Kind(m)] {
			out = append(out, m)
		}
	}
	return out
}

// LayerKinds are the kinds of the paper's experiment 2: mutations that
// reshape the layers around an unchanged payload.
var LayerKinds = []string{"dockerfile", "image"}
