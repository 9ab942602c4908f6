package mutations

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func init() {
	Register(wrapperScript{info{
		name:        "wrapper-script",
		version:     "1",
		description: "replaces the ENTRYPOINT (or CMD) by a generated /bin/sh script, COPYed from the context to /usr/local/bin or /opt/<x>, that execs the original command with its arguments",
		paperRef:    "— (experiment 3)",
	}})
}

// wrapperScript moves the command line out of the image config: the
// ENTRYPOINT in effect (or, without one in the Dockerfile, the CMD) is
// replaced by
//
//	COPY --chmod=755 <name> <dir>/<name>
//	ENTRYPOINT ["<dir>/<name>"]
//
// where the script is `exec '<program>' '<arg>'... "$@"` (CMD and `docker
// run` arguments still arrive as "$@"); a shell-form command becomes the
// script's body (run by the SHELL in effect when one is set). Both new
// instructions carry the original's marker, and the script is in the
// context root under the name it gets in the image. It needs no payload
// file: any ENTRYPOINT/CMD written in the final stage will do. An
// ENTRYPOINT set in an earlier stage is not rewritten (that would change
// the stage; ErrNotApplicable), and neither is a CMD that feeds one.
type wrapperScript struct{ info }

func (wrapperScript) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	if p.Dir == "" {
		return fmt.Errorf("wrapper-script: Payload.Dir is empty")
	}
	ep, cmd := d.launches()
	l := ep
	if l == nil {
		l = cmd
	}
	if l == nil || !l.final || (l.json && len(l.args) == 0) || (!l.json && strings.TrimSpace(l.shell) == "") {
		return fmt.Errorf("%w: no ENTRYPOINT or CMD in effect written in the final stage", ErrNotApplicable)
	}

	var body string
	if l.json {
		words := make([]string, len(l.args))
		for i, a := range l.args {
			words[i] = shQuote(a)
		}
		body = "exec " + strings.Join(words, " ") + ` "$@"`
	} else if sh := d.shellOf(l.node); sh != nil {
		words := make([]string, 0, len(sh)+1)
		for _, a := range append(sh, l.shell) {
			words = append(words, shQuote(a))
		}
		body = "exec " + strings.Join(words, " ")
	} else {
		body = l.shell
	}
	script := "#!/bin/sh\n" + body + "\n"

	taken := d.dests()
	prog := l.program()
	var dest string
	for dest == "" || taken[dest] || path.Base(dest) == path.Base(prog) {
		name := pick(rng, []string{"entrypoint", "docker-entrypoint", "start", "run", "init", "launch", "boot", "supervise"}) +
			"-" + randName(rng, lower+"0123456789", 3, 6) + pick(rng, []string{"", ".sh"})
		dir := "/usr/local/bin"
		if rng.IntN(2) == 1 {
			dir = "/opt/" + pick(rng, []string{"app", "runtime", "service", "bin", randName(rng, lower, 3, 8)})
		}
		dest = path.Join(dir, name)
	}

	c := newCtxEditor(p.Dir)
	rel := c.free(".", path.Base(dest))
	mtime, err := c.rootTime()
	if err != nil {
		return err
	}
	if err := c.write(rel, []byte(script), 0o755, mtime); err != nil {
		return err
	}
	tag := dfile.Marker(l.node)
	p.Dockerfile = d.Splice(dfile.Replace(l.node, replacing(tag,
		renderAddCopy("COPY", []string{"--chmod=755"}, rel, dest),
		l.renderExec([]string{dest}),
	)...))
	return c.done()
}
