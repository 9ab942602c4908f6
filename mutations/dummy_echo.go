package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(dummyEcho{info{
		name:        "dummy-echo",
		version:     "1",
		description: `inserts RUN echo "Random text <n>" before, between or after the malicious layers`,
		paperRef:    "Table 4: execute dummy command",
	}})
}

// dummyEcho is the paper's `RUN echo "Random text $RANDOM"`. The number is
// drawn from rng when the Dockerfile is written, not by the shell at build
// time, so a seed reproduces the image; it is 32-bit instead of bash's
// 15-bit $RANDOM so that samples practically never collide.
type dummyEcho struct{ info }

func (dummyEcho) MutateDockerfile(src []byte, rng *rand.Rand, _ Env) ([]byte, error) {
	return insertAtRandomPoint(src, rng, func(*dockerfile, point) ([]string, error) {
		return []string{fmt.Sprintf(`RUN echo "Random text %d"`, rng.Uint32())}, nil
	})
}
