package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(randomEnv{info{
		name:        "random-env",
		version:     "1",
		description: "inserts ARG RANDOM_VAL=<n> and ENV DUMMY_VAR=${RANDOM_VAL} before, between or after the malicious layers",
		paperRef:    "Table 4: add randomized environment variable",
	}})
}

// randomEnv is the paper's `ARG RANDOM_VAL` / `ENV DUMMY_VAR=${RANDOM_VAL}`.
// The harness passes no build args, so the value is baked into the ARG's
// default from rng. Both instructions are metadata only (no layer), but ARG
// and ENV are in the environment of every later RUN, so BuildKit writes
// "|1 RANDOM_VAL=<n>" into the created_by of later RUN history entries.
type randomEnv struct{ info }

func (randomEnv) MutateDockerfile(src []byte, rng *rand.Rand, _ Env) ([]byte, error) {
	return insertAtRandomPoint(src, rng, func(*dockerfile, point) ([]string, error) {
		return []string{
			fmt.Sprintf("ARG RANDOM_VAL=%d", rng.Uint32()),
			"ENV DUMMY_VAR=${RANDOM_VAL}",
		}, nil
	})
}
