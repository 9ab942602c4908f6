package mutations

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func init() {
	Register(padBinary{info{
		name:        "pad-binary",
		version:     "1",
		description: "appends 1-64 KiB of random bytes to the payload ELF (a comment line to a #! script): new file hash, same program",
		paperRef:    "— (experiment 3)",
	}})
}

// padBinary changes the payload file's hash and nothing else: the loader
// maps an ELF by its program headers and ignores trailing bytes, so the
// padded binary runs as before (the test runs a padded /bin/true). A #!
// script gets a trailing comment line instead, since random bytes would be
// read as commands by the shell if it ever got there. Other files (configs)
// are not targets: padding would change what they say.
//
// The Dockerfile is unchanged unless another instruction reads the same
// context file: then the padded copy gets a new context name and only the
// payload instruction's source changes.
type padBinary struct{ info }

func (padBinary) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	t, err := d.payloadTarget(p.Dir, rng, "an ELF binary or a #! script",
		func(t *target) bool { return t.elf() || t.script() })
	if err != nil {
		return err
	}
	data, err := t.read(p.Dir)
	if err != nil {
		return err
	}
	var pad []byte
	if t.elf() {
		pad = randBytes(rng, 1024+rng.IntN(63*1024+1))
	} else {
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			pad = append(pad, '\n')
		}
		pad = fmt.Appendf(pad, "# %s\n", hex.EncodeToString(randBytes(rng, 8+rng.IntN(57))))
	}
	out := append(append([]byte{}, data...), pad...)

	c := newCtxEditor(p.Dir)
	rel := t.rel
	if d.shared(t) {
		rel = c.free(path.Dir(t.rel), "."+path.Base(t.rel)+"-"+randName(rng, lower, 4, 6))
		p.Dockerfile = d.Splice(dfile.Replace(t.node, renderAddCopy(t.cmd, t.flags, rel, t.dest)))
	}
	if err := c.write(rel, out, t.info.Mode().Perm(), t.info.ModTime()); err != nil {
		return err
	}
	return c.done()
}
