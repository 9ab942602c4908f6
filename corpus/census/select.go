package census

import (
	"math"
	"sort"
)

// RunOrder sorts a list into the order --limit takes prefixes of: Debian
// and Python by sha256(Seed, "order", name), a random order fixed by the
// seed; npm by rank.
func RunOrder(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Ecosystem == NPM {
			return es[i].Rank < es[j].Rank
		}
		hi, hj := hash(Seed, "order", es[i].Name), hash(Seed, "order", es[j].Name)
		if hi != hj {
			return hi < hj
		}
		return es[i].Name < es[j].Name
	})
}

// Allocate splits limit over strata in proportion to their sizes (largest
// remainder, ties to the first stratum in order), so the parts sum to
// min(limit, total). limit <= 0 keeps everything.
func Allocate(order []string, sizes map[string]int, limit int) map[string]int {
	total := 0
	for _, k := range order {
		total += sizes[k]
	}
	out := map[string]int{}
	if limit <= 0 || limit >= total {
		for _, k := range order {
			out[k] = sizes[k]
		}
		return out
	}
	type rem struct {
		k string
		r float64
	}
	var rems []rem
	given := 0
	for _, k := range order {
		q := float64(limit) * float64(sizes[k]) / float64(total)
		out[k] = int(math.Floor(q))
		given += out[k]
		rems = append(rems, rem{k, q - math.Floor(q)})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].r > rems[j].r })
	for i := 0; given < limit; i++ {
		out[rems[i].k]++
		given++
	}
	return out
}
