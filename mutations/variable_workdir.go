package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(variableWorkdir{info{
		name:        "variable-workdir",
		version:     "1",
		description: "inserts WORKDIR /tmp/<n>_dummy and then restores the working directory in effect at that point",
		paperRef:    "Table 4: change variable workdir",
	}})
}

// variableWorkdir is the paper's `WORKDIR /tmp/${RANDOM}_dummy` /
// `WORKDIR /`, except that the second WORKDIR restores the directory in
// effect at the insertion point (/opt/drupal for the corpus, inherited from
// the drupal web-app image: Env.BaseWorkdir) instead of "/": the paper's "/" would move every later
// instruction (and the container's start directory) elsewhere, changing the
// sample's behaviour, which a polymorphic variant must not do.
type variableWorkdir struct{ info }

func (variableWorkdir) MutateDockerfile(src []byte, rng *rand.Rand, env Env) ([]byte, error) {
	return insertAtRandomPoint(src, rng, func(d *dockerfile, p point) ([]string, error) {
		return []string{
			fmt.Sprintf("WORKDIR /tmp/%d_dummy", rng.Uint32()),
			"WORKDIR " + d.workdirAt(p, env.BaseWorkdir),
		}, nil
	})
}
