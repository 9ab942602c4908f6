package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(typosquatLabel{info{
		name:        "typosquat-label",
		version:     "1",
		description: "adds OCI labels (source, title, vendor) naming a typosquatted GitHub repository of a popular image, e.g. https://github.com/drupa1/drupal",
		paperRef:    "— (experiment 3)",
	}})
}

// popularImages are Docker Hub official images attackers imitate.
var popularImages = []string{"drupal", "nginx", "redis", "postgres", "node", "python", "ubuntu", "alpine",
	"mysql", "mongo", "httpd", "golang", "debian", "wordpress", "memcached", "rabbitmq", "traefik", "busybox"}

// typosquatLabel dresses the image up as a popular one's "official"
// build, as typosquatting images on Docker Hub do:
//
//	LABEL org.opencontainers.image.source="https://github.com/<typo>/<name>" org.opencontainers.image.title="<name>" org.opencontainers.image.vendor="<typo>"
//
// <name> is drawn from popularImages and <typo> from it by one edit drawn
// from rng: two adjacent letters swapped, a letter doubled, l→1 or o→0,
// or a hyphen inserted (always a valid GitHub owner name). github.com is
// the only host named. The LABEL (metadata, no layer) goes at a point of
// the final stage drawn from rng and carries no marker. Never
// ErrNotApplicable.
type typosquatLabel struct{ info }

func (typosquatLabel) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	name := pick(rng, popularImages)
	owner := typo(name, rng)
	line := fmt.Sprintf(`LABEL org.opencontainers.image.source="https://github.com/%s/%s" org.opencontainers.image.title="%s" org.opencontainers.image.vendor="%s"`,
		owner, name, name, owner)
	p.Dockerfile = d.Splice(insertAt(d.randomPoint(rng), line))
	return nil
}

// typo returns name with one typo drawn from rng; it always differs from
// name (a kind that cannot apply, like a homoglyph in "redis", falls
// through to the next).
func typo(name string, rng *rand.Rand) string {
	kind := rng.IntN(4)
	for i := range 4 {
		switch (kind + i) % 4 {
		case 0: // swap two different adjacent letters
			var at []int
			for j := 0; j+1 < len(name); j++ {
				if name[j] != name[j+1] {
					at = append(at, j)
				}
			}
			if len(at) > 0 {
				j := at[rng.IntN(len(at))]
				b := []byte(name)
				b[j], b[j+1] = b[j+1], b[j]
				return string(b)
			}
		case 1: // double a letter
			j := rng.IntN(len(name))
			return name[:j+1] + name[j:]
		case 2: // homoglyph
			var at []int
			for j := range len(name) {
				if name[j] == 'l' || name[j] == 'o' {
					at = append(at, j)
				}
			}
			if len(at) > 0 {
				j := at[rng.IntN(len(at))]
				return name[:j] + map[byte]string{'l': "1", 'o': "0"}[name[j]] + name[j+1:]
			}
		case 3: // hyphen inside
			if len(name) >= 2 {
				j := 1 + rng.IntN(len(name)-1)
				return name[:j] + "-" + name[j:]
			}
		}
	}
	return name + name[len(name)-1:] // unreachable: doubling always applies
}
