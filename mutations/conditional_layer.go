package mutations

import (
	"math/rand/v2"
	"slices"
)

func init() {
	Register(conditionalLayer{info{
		name:        "conditional-layer",
		version:     "1",
		description: `on a coin flip, inserts RUN echo "Dummy layer"; otherwise leaves the Dockerfile unchanged`,
		paperRef:    "Table 4: add conditional layer",
	}})
}

// conditionalLayer is the paper's script
// `if [ $((RANDOM % 2)) -eq 0 ]; then echo "RUN echo Dummy layer" >> Dockerfile; fi`
// with the coin flipped by rng. Tails returns the input unchanged, so about
// half of the samples are the unmutated image (same digest): that is the
// paper's design, and the detection rate of this type includes them.
type conditionalLayer struct{ info }

func (conditionalLayer) MutateDockerfile(src []byte, rng *rand.Rand, _ Env) ([]byte, error) {
	if rng.IntN(2) == 1 {
		if _, err := parseDockerfile(src); err != nil {
			return nil, err // an unparsable input is an error on both sides of the coin
		}
		return slices.Clone(src), nil
	}
	return insertAtRandomPoint(src, rng, func(*dockerfile, point) ([]string, error) {
		return []string{`RUN echo "Dummy layer"`}, nil
	})
}
