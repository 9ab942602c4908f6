package mutations

import (
	"fmt"
	"math/rand/v2"
	"path"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func init() {
	Register(hideAndDelete{info{
		name:        "hide-and-delete",
		version:     "1",
		description: "adds a copy of the payload file to a hidden path (/var/tmp/.<x>, /usr/share/.<x>/...) earlier in the final stage and deletes it with RUN rm -f later: the file stays in a lower layer under a whiteout",
		paperRef:    "— (experiment 3)",
	}})
}

// hideAndDelete leaves a second copy of the payload file in the image
// where a scan of the final file system does not see it: the copy's layer
// holds it, a later layer's whiteout hides it. The copy is the original
// instruction with its command and flags and a hidden destination,
// inserted at a point drawn from those before the original instruction;
// `RUN rm -f <path>` goes at a point drawn from those at or after the
// copy. The copy carries the original's marker (it holds the same
// content); the rm carries none.
//
// The rm runs as the USER in effect, so both points are drawn among those
// where the Dockerfile sets no USER or a root one (a non-root user could not
// delete a root-owned file); without such points: ErrNotApplicable.
type hideAndDelete struct{ info }

func (hideAndDelete) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	t, err := d.payloadTarget(p.Dir, rng, "", nil)
	if err != nil {
		return err
	}
	var before []point
	pts := d.points()
	for _, pt := range pts {
		if pt.index <= t.index && dfile.IsRoot(d.userAt(pt)) {
			before = append(before, pt)
		}
	}
	if len(before) == 0 {
		return fmt.Errorf("%w: a non-root USER is in effect before the payload file's instruction", ErrNotApplicable)
	}
	at := before[rng.IntN(len(before))]
	var after []point
	for _, pt := range pts {
		if pt.index >= at.index && dfile.IsRoot(d.userAt(pt)) {
			after = append(after, pt)
		}
	}
	rm := after[rng.IntN(len(after))] // at itself is in after

	var hidden string
	switch rng.IntN(3) {
	case 0:
		hidden = "/var/tmp/." + randName(rng, lower, 3, 9)
	default:
		hidden = path.Join(hiddenDir(rng), randName(rng, lower, 3, 9))
	}
	p.Dockerfile = d.Splice(
		insertAt(at, dfile.Marked(t.marker, renderAddCopy(t.cmd, t.flags, t.srcs[0], hidden))...),
		insertAt(rm, "RUN rm -f "+hidden),
	)
	return nil
}
