package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(randomFSChange{info{
		name:        "random-fs-change",
		version:     "1",
		description: "inserts RUN mkdir /tmp/dummy-<n> && rmdir /tmp/dummy-<n> before, between or after the malicious layers",
		paperRef:    "Table 4: random file system change",
	}})
}

// randomFSChange is the paper's
// `RUN mkdir /tmp/dummy-$RANDOM && rmdir /tmp/dummy-$RANDOM`. The paper's
// two $RANDOM expansions would differ (the rmdir would fail); one number
// drawn from rng names the same directory in both commands.
type randomFSChange struct{ info }

func (randomFSChange) MutateDockerfile(src []byte, rng *rand.Rand, _ Env) ([]byte, error) {
	return insertAtRandomPoint(src, rng, func(*dockerfile, point) ([]string, error) {
		n := rng.Uint32()
		return []string{fmt.Sprintf("RUN mkdir /tmp/dummy-%d && rmdir /tmp/dummy-%d", n, n)}, nil
	})
}
