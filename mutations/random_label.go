package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(randomLabel{info{
		name:        "random-label",
		version:     "1",
		description: `inserts LABEL dummy.random="<hex>": metadata only, no layer; only the config and image digests change`,
		paperRef:    "",
	}})
}

// randomLabel is this project's tenth type (the paper names nine of ten;
// see README.md for why this one): the smallest change that gives a new
// image digest. LABEL writes only the config (labels and an empty_layer
// history entry), so every layer digest and layer index stays as in the
// sample.
type randomLabel struct{ info }

func (randomLabel) MutateDockerfile(src []byte, rng *rand.Rand, _ Env) ([]byte, error) {
	return insertAtRandomPoint(src, rng, func(*dockerfile, point) ([]string, error) {
		return []string{fmt.Sprintf(`LABEL dummy.random="%016x"`, rng.Uint64())}, nil
	})
}
