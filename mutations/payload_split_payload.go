package mutations

import (
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func init() {
	Register(splitPayload{info{
		name:        "split-payload",
		version:     "1",
		description: "splits the payload program into 2-3 parts, each ADDed in its own layer, and makes the ENTRYPOINT/CMD cat them together into /tmp/.<x> and exec it",
		paperRef:    "— (experiment 3)",
	}})
}

// splitPayload cuts the program the final ENTRYPOINT/CMD starts into 2-3
// parts at offsets drawn from rng; no layer holds the whole file and no
// part has its hash. Each part is ADDed/COPYed (the original's command and
// flags, --chmod/--chown included) to a hidden directory in its own layer,
// where the original instruction was, and each carries the original's
// ground-truth marker. The ENTRYPOINT (or CMD) becomes
//
//	["/bin/sh", "-c", "cat p1 p2 > /tmp/.x && chmod 755 /tmp/.x && exec /tmp/.x \"$@\"", "sh", <original args>...]
//
// so the original arguments, a CMD and `docker run` arguments reach the
// program as "$@"; a shell-form one gets the cat/chmod in front. Only a
// file the final stage starts can be split (a config file would have to be
// reassembled where it is read): ErrNotApplicable otherwise. The original
// path no longer exists in the image, so other references to it (a
// watchdog script starting it) find nothing.
type splitPayload struct{ info }

func (splitPayload) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	t, err := d.payloadTarget(p.Dir, rng, "started by the final stage's ENTRYPOINT/CMD and at least 2 bytes long",
		func(t *target) bool { return t.startable() && t.info.Size() >= 2 })
	if err != nil {
		return err
	}
	data, err := t.read(p.Dir)
	if err != nil {
		return err
	}
	k := min(2+rng.IntN(2), len(data))
	cmd := t.cmd
	var cuts []int
	for try := 0; ; try++ {
		cuts = []int{0, len(data)}
		for len(cuts) < k+1 {
			if c := 1 + rng.IntN(len(data)-1); !slices.Contains(cuts, c) {
				cuts = append(cuts, c)
			}
		}
		slices.Sort(cuts)
		if cmd != "ADD" || !slices.ContainsFunc(cuts[1:k], func(c int) bool { return looksLikeArchive(data[c:]) }) {
			break
		}
		if try == 100 { // ADD could unpack a part: copy them instead
			cmd = "COPY"
			break
		}
	}

	c := newCtxEditor(p.Dir)
	dir := hiddenDir(rng)
	run := runPath(rng)
	var adds, dests []string
	used := map[string]bool{}
	for i := range k {
		name := randName(rng, lower, 4, 8)
		for used[name] {
			name += string(lower[rng.IntN(len(lower))])
		}
		used[name] = true
		rel := c.free(path.Dir(t.rel), name)
		if err := c.write(rel, data[cuts[i]:cuts[i+1]], t.info.Mode().Perm(), t.info.ModTime()); err != nil {
			return err
		}
		dest := path.Join(dir, name)
		adds = append(adds, renderAddCopy(cmd, t.flags, rel, dest))
		dests = append(dests, dest)
	}
	if !d.shared(t) {
		if err := c.remove(t.rel); err != nil {
			return err
		}
	}
	prep := fmt.Sprintf("cat %s > %s && chmod %s %s", strings.Join(dests, " "), run, runMode(t), run)
	p.Dockerfile = d.Splice(
		dfile.Replace(t.node, replacing(t.marker, adds...)...),
		dfile.Replace(t.by.node, runInstead(t.by, t.dest, prep, run)),
	)
	return c.done()
}

// runMode is the octal mode an unpacked program gets: the payload's, with
// at least the owner's x bit.
func runMode(t *target) string {
	m := t.mode()
	if m&0o100 == 0 {
		m |= 0o755
	}
	return fmt.Sprintf("%o", m)
}
