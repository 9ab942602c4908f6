package mutations

import (
	"fmt"
	"math/rand/v2"
)

func init() {
	Register(poolRawIP{info{
		name:        "pool-raw-ip",
		version:     "1",
		description: "replaces the host of the URL arguments of the ENTRYPOINT/CMD by a raw IPv4 address from the documentation ranges (RFC 5737), port kept",
		paperRef:    "— (experiment 3)",
	}})
}

// docRanges are RFC 5737's documentation networks (TEST-NET-1..3): never
// routed, so no real host is ever named.
var docRanges = []string{"192.0.2", "198.51.100", "203.0.113"}

// poolRawIP drops the pool's domain name, which blocklists and DNS-based
// rules match, for a literal IPv4 address: each distinct host of a URL
// argument (scheme://host...) of the final stage's ENTRYPOINT/CMD, exec or
// shell form, gets an address x.y.z.1-254 in one of the documentation
// ranges; userinfo, port, path stay. The instruction is rewritten in place
// (comments and marker kept). ErrNotApplicable without a URL argument.
type poolRawIP struct{ info }

func (poolRawIP) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	ips := map[string]string{}
	out, err := d.rewriteHosts(func(h string) string {
		if ip, ok := ips[h]; ok {
			return ip
		}
		ip := fmt.Sprintf("%s.%d", pick(rng, docRanges), 1+rng.IntN(254))
		ips[h] = ip
		return ip
	})
	if err != nil {
		return err
	}
	p.Dockerfile = out
	return nil
}
