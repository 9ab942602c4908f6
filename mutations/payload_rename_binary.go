package mutations

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func init() {
	Register(renameBinary{info{
		name:        "rename-binary",
		version:     "1",
		description: "moves the payload executable to a disguised path (kworker, kthreadd, systemd-journal... in /usr/bin, /var/lib/<x>, /tmp/.<x>) and rewrites every reference in the final stage",
		paperRef:    "— (experiment 3)",
	}})
}

// disguises are names of kernel threads and daemons a process list shows
// anyway (none of them is a file in a Debian image, so nothing is
// overwritten); a random lowercase name is the other choice.
var disguises = []string{"kworker", "kthreadd", "ksoftirqd", "kswapd0", "systemd-journal", "dbus-daemon-helper", "rcu_sched", "udevd-worker"}

// renameBinary moves the payload executable (an ELF, a #! script or a file
// with an x bit: renaming a config file disguises nothing) to a new path.
// Every whole-path reference to the old destination in the final stage's
// instructions (ENTRYPOINT/CMD in exec and shell form, RUN text and
// heredocs, HEALTHCHECK, ENV...) is rewritten, and so is a bare program
// name in ENTRYPOINT/CMD that found the file through PATH. Text files the
// final stage copies from the context (cron entries, scripts) that name
// the old path are rewritten too, so the image keeps working. Comments are
// left alone: they never reach the image. The context file is renamed to
// the new base name in its directory (copied when another instruction
// reads it).
type renameBinary struct{ info }

func (renameBinary) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	t, err := d.payloadTarget(p.Dir, rng, "an executable (ELF, #! script or x bit)", (*target).executable)
	if err != nil {
		return err
	}
	taken := d.dests()
	var dest string
	for dest == "" || taken[dest] || dest == path.Clean(t.dest) {
		name := randName(rng, lower, 5, 10)
		if rng.IntN(3) > 0 {
			name = pick(rng, disguises)
		}
		var dir string
		switch rng.IntN(5) {
		case 0:
			dir = "/usr/bin"
		case 1:
			dir = "/usr/local/bin"
		case 2:
			dir = "/usr/sbin"
		case 3:
			dir = "/var/lib/" + pick(rng, []string{"dbus", "misc", "systemd", "ucf", randName(rng, lower, 4, 8)})
		default:
			dir = "/tmp/." + pick(rng, []string{"X11-unix", "ICE-unix", "font-unix", randName(rng, lower, 3, 8)})
		}
		dest = path.Join(dir, name)
	}

	c := newCtxEditor(p.Dir)
	rel := c.free(path.Dir(t.rel), path.Base(dest))
	old := path.Clean(t.dest)
	ep, cmd := d.launches()
	edits := []dfile.Edit{dfile.Replace(t.node, renderAddCopy(t.cmd, t.flags, rel, dest))}
	for _, n := range d.Final().Instructions {
		if n == t.node {
			continue
		}
		var l *launch
		for _, x := range []*launch{ep, cmd} {
			if x != nil && x.node == n && !strings.Contains(x.program(), "/") && resolves(x.program(), old) {
				l = x
			}
		}
		switch {
		case l != nil && l.json: // a bare name found through PATH
			args := append([]string{dest}, l.args[1:]...)
			for i := range args[1:] {
				args[i+1], _ = replacePath(args[i+1], old, dest)
			}
			edits = append(edits, dfile.Replace(n, l.renderExec(args)))
		case l != nil:
			edits = append(edits, dfile.Replace(n, l.renderShell(replaceProgram(l.shell, old, dest))))
		default:
			text := d.Text(n)
			if repl, k := replacePath(text, old, dest); k > 0 {
				edits = append(edits, dfile.Replace(n, strings.TrimSuffix(repl, "\n")))
			}
		}
	}

	// Context text files the final stage copies that name the old path.
	files, err := d.copiedFiles(p.Dir, t.node)
	if err != nil {
		return err
	}
	for _, f := range files {
		fi, err := os.Lstat(c.abs(f))
		if err != nil || fi.Size() > 1<<20 {
			continue
		}
		b, err := os.ReadFile(c.abs(f))
		if err != nil {
			return err
		}
		if bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) {
			continue
		}
		if repl, k := replacePath(string(b), old, dest); k > 0 {
			if err := c.write(f, []byte(repl), fi.Mode().Perm(), fi.ModTime()); err != nil {
				return err
			}
		}
	}

	if d.shared(t) {
		data, err := t.read(p.Dir)
		if err != nil {
			return err
		}
		err = c.write(rel, data, t.info.Mode().Perm(), t.info.ModTime())
		if err != nil {
			return err
		}
	} else if err := c.rename(t.rel, rel); err != nil {
		return err
	}
	p.Dockerfile = d.Splice(edits...)
	return c.done()
}
