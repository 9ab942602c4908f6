package mutations

import (
	"fmt"
	"math/rand/v2"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// DummyBuilderBase is the FROM image of add-dummy-layer's builder stage. It
// is the corpus's own base, which the harness already resolves to a local
// image (a named context), so the mutation needs nothing pulled.
const DummyBuilderBase = "debian:bookworm"

func init() {
	Register(addDummyLayer{info{
		name:        "add-dummy-layer",
		version:     "1",
		description: "adds a builder stage that writes /dummyfile, then COPY --from it and RUN rm /dummyfile in the final stage",
		paperRef:    "Table 4: add dummy layer (multi-stage copy)",
	}})
}

// addDummyLayer is the paper's multi-stage copy: a builder stage
// (`FROM ubuntu:20.04` in the paper, DummyBuilderBase here) makes
// /dummyfile; the final stage copies it in and removes it again, two new
// layers (the file, then its whiteout). The builder stage goes right before
// the final stage; it is not in the final stage's FROM chain, so it adds
// nothing to the image's history and ground truth ignores it.
//
// Deviation: the paper's builder fills the file from /dev/urandom, which
// would give a different COPY layer on every build. Here the content is
// `yes <token> | head -c <size>` with token and size (1 KiB-1 MiB) drawn
// from rng: a different layer per seed, the same layer per rebuild. The file
// is compressible where urandom's is not; its size in the image is not what
// the mutation is about.
type addDummyLayer struct{ info }

func (addDummyLayer) MutateDockerfile(src []byte, rng *rand.Rand, _ Env) ([]byte, error) {
	d, err := parseDockerfile(src)
	if err != nil {
		return nil, err
	}
	name := "dummy-builder"
	for i := 2; !d.stageNameFree(name); i++ {
		name = fmt.Sprintf("dummy-builder-%d", i)
	}
	p := d.randomPoint(rng)
	token := fmt.Sprintf("%016x", rng.Uint64())
	size := (1 + rng.IntN(1024)) * 1024
	return d.Splice(
		dfile.Insert(d.beforeFinalStage(),
			fmt.Sprintf("FROM %s AS %s", DummyBuilderBase, name),
			fmt.Sprintf("RUN yes 'dummy %s' | head -c %d > /dummyfile", token, size),
		),
		insertAt(p,
			fmt.Sprintf("COPY --from=%s /dummyfile /dummyfile", name),
			"RUN rm /dummyfile",
		),
	), nil
}
