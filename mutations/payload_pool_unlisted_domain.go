package mutations

import (
	"math/rand/v2"
)

func init() {
	Register(poolUnlistedDomain{info{
		name:        "pool-unlisted-domain",
		version:     "1",
		description: "replaces the host of the URL arguments of the ENTRYPOINT/CMD by a random name under example.com/.net/.org (RFC 2606): a pool domain in no list",
		paperRef:    "— (experiment 3)",
	}})
}

// poolUnlistedDomain models an attacker running their own pool (or proxy)
// under a fresh domain no blocklist has seen: each distinct host of a URL
// argument of the final stage's ENTRYPOINT/CMD (exec or shell form)
// becomes <6-12 random letters>.example.<com|net|org>, reserved names that
// resolve to nothing real. Port, userinfo and path stay; the instruction is
// rewritten in place. ErrNotApplicable without a URL argument.
type poolUnlistedDomain struct{ info }

func (poolUnlistedDomain) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	names := map[string]string{}
	out, err := d.rewriteHosts(func(h string) string {
		if n, ok := names[h]; ok {
			return n
		}
		n := randName(rng, lower, 6, 12) + ".example." + pick(rng, []string{"com", "net", "org"})
		names[h] = n
		return n
	})
	if err != nil {
		return err
	}
	p.Dockerfile = out
	return nil
}
