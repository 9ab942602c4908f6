package mutations

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
)

// Mutation is one polymorphic mutation type. Every registered type also
// implements exactly one kind's interface: DockerfileMutation,
// PayloadMutation or ImageMutation (see Kind).
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

// info carries the four descriptive methods every type shares.
type info struct{ name, version, description, paperRef string }

func (i info) Name() string        { return i.name }
func (i info) Version() string     { return i.version }
func (i info) Description() string { return i.description }
func (i info) PaperRef() string    { return i.paperRef }

// Kind says what a mutation type changes. There are two families: the
// source kinds (KindDockerfile, KindPayload) change what is built, before
// the build; KindImage rewrites the built image.
type Kind string

const (
	// KindDockerfile types splice instructions into the Dockerfile text
	// (DockerfileMutation, dockerfile.go); the paper's experiment 2.
	KindDockerfile Kind = "dockerfile"
	// KindPayload types rewrite the Dockerfile, a private copy of the build
	// context and the build's SOURCE_DATE_EPOCH (PayloadMutation,
	// payload.go); experiment 3.
	KindPayload Kind = "payload"
	// KindImage types rewrite a built image in go-containerregistry's
	// mutate style (ImageMutation, image.go), e.g. squash.
	KindImage Kind = "image"
)

// LayerKinds are the kinds of the paper's experiment 2: mutations that
// reshape the layers around an unchanged payload.
var LayerKinds = []Kind{KindDockerfile, KindImage}

// KindOf is the kind of m by the interface it implements, "" for none.
func KindOf(m Mutation) Kind {
	switch m.(type) {
	case DockerfileMutation:
		return KindDockerfile
	case ImageMutation:
		return KindImage
	case PayloadMutation:
		return KindPayload
	}
	return ""
}

// ErrUnknown is returned by Get for a name that is not registered.
var ErrUnknown = errors.New("unknown mutation type")

var (
	regMu    sync.RWMutex
	registry = map[string]Mutation{}
)

// Register adds m to the registry. It panics on an empty or duplicate name
// or on a type of no kind (see KindOf): all are programming errors found at
// init time.
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
	if KindOf(m) == "" {
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

// OfKind returns the registered types of the given kinds, sorted by name.
// Experiment 2 runs LayerKinds (the paper's), experiment 3 KindPayload.
func OfKind(kinds ...Kind) []Mutation {
	want := map[Kind]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var out []Mutation
	for _, m := range All() {
		if want[KindOf(m)] {
			out = append(out, m)
		}
	}
	return out
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
