package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(injectDummyLayer{info{
		name:        "inject-dummy-layer",
		version:     "1",
		description: "inserts a RUN that writes 1-10 MiB of /dev/urandom to /dummyfile with dd and removes it in the same step",
		paperRef:    "Table 4: inject dummy layer",
	}})
}

// injectDummyLayer is the paper's
// `RUN dd if=/dev/urandom of=/dummyfile bs=1M count=10 && rm /dummyfile`,
// with the size (1-10 MiB, counted in KiB: bs=1K count=1024..10240) and the
// insertion point drawn from rng. The paper's fixed 10 MiB would make every
// sample of a case with one insertion point (case 000) the same image. It
// keeps /dev/urandom: the file is removed in the same RUN, so the random
// bytes never reach the layer and the image stays reproducible.
type injectDummyLayer struct{ info }

func (injectDummyLayer) MutateDockerfile(src []byte, rng *rand.Rand, _ Env) ([]byte, error) {
	return insertAtRandomPoint(src, rng, func(*dockerfile, point) ([]string, error) {
		return []string{fmt.Sprintf("RUN dd if=/dev/urandom of=/dummyfile bs=1K count=%d && rm /dummyfile", 1024+rng.IntN(9*1024+1))}, nil
	})
}
