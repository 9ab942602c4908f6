package mutations

import (
	"fmt"
	"math/rand/v2"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ImageMutation rewrites a built image. layerMap[i] is the new index of old
// layer i, -1 if the layer was dropped; several old layers map to the same
// new index when they were squashed together.
type ImageMutation interface {
	Mutation
	MutateImage(img v1.Image, rng *rand.Rand) (out v1.Image, layerMap []int, err error)
}

// ApplyImage applies m to img with the stream NewRand(seed, m.Name()).
func ApplyImage(m ImageMutation, img v1.Image, seed int64) (v1.Image, []int, error) {
	out, lm, err := m.MutateImage(img, NewRand(seed, m.Name()))
	if err != nil {
		return nil, nil, fmt.Errorf("mutation %s (seed %d): %w", m.Name(), seed, err)
	}
	return out, lm, nil
}
