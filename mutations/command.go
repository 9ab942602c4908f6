package mutations

// Rewriting what the image starts: the ENTRYPOINT/CMD in effect, the
// program they name, and shell text that references a path.

import (
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// launch is the ENTRYPOINT or CMD in effect for the final image.
type launch struct {
	node  *parser.Node
	kind  string // "ENTRYPOINT" or "CMD"
	final bool   // written in the final stage (only those are rewritten)
	json  bool
	args  []string // exec form
	shell string   // shell form
}

// launches returns the final image's ENTRYPOINT and CMD as the Dockerfile
// sets them along the final stage's FROM chain (nil when not set there: an
// external base image's are unknown). An ENTRYPOINT clears the CMD
// inherited from an earlier stage, as BuildKit does, unless the same stage
// set one.
func (d *dockerfile) launches() (ep, cmd *launch) {
	f := d.Final()
	for _, st := range d.Chain() {
		cmdSet := false
		for _, n := range st.Instructions {
			if !dfile.Is(n, "entrypoint") && !dfile.Is(n, "cmd") {
				continue
			}
			l := &launch{node: n, kind: strings.ToUpper(n.Value), final: st == f, json: n.Attributes["json"]}
			if l.json {
				for a := n.Next; a != nil; a = a.Next {
					l.args = append(l.args, a.Value)
				}
			} else if n.Next != nil {
				l.shell = n.Next.Value
			}
			if l.kind == "CMD" {
				cmd, cmdSet = l, true
				continue
			}
			ep = l
			if !cmdSet {
				cmd = nil
			}
		}
	}
	return ep, cmd
}

// program is the path or name of what l starts: the first exec-form
// argument, or the first word of a shell-form command (after "exec").
func (l *launch) program() string {
	if l.json {
		if len(l.args) == 0 {
			return ""
		}
		return l.args[0]
	}
	w := strings.Fields(l.shell)
	if len(w) > 1 && w[0] == "exec" {
		w = w[1:]
	}
	if len(w) == 0 {
		return ""
	}
	return strings.Trim(w[0], `'"`)
}

// render writes l with new exec-form args or shell text.
func (l *launch) renderExec(args []string) string { return l.kind + " " + dfile.JSONArray(args) }

func (l *launch) renderShell(text string) string { return l.kind + " " + text }

// searchPath is where a bare program name is looked up (Debian's default
// PATH; an ENV PATH is not followed).
var searchPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// resolves reports whether program prog is the file at dest: the same
// absolute path, or a bare name found at dest through searchPath.
func resolves(prog, dest string) bool {
	switch {
	case prog == "":
		return false
	case strings.Contains(prog, "/"):
		return path.IsAbs(prog) && path.Clean(prog) == path.Clean(dest)
	default:
		return path.Base(dest) == prog && slices.Contains(searchPath, path.Dir(path.Clean(dest)))
	}
}

// startedBy returns the launch that starts the file at dest: the
// ENTRYPOINT, or the CMD when it runs as a command (no ENTRYPOINT, or an
// exec-form one that passes it on, like docker-entrypoint.sh).
func startedBy(ep, cmd *launch, dest string) *launch {
	if ep != nil && resolves(ep.program(), dest) {
		return ep
	}
	if cmd != nil && (ep == nil || ep.json) && resolves(cmd.program(), dest) {
		return cmd
	}
	return nil
}

// replaceProgram rewrites a shell-form command so it starts run where it
// started the file at dest: every absolute reference to dest, and the
// first word when it names dest through searchPath.
func replaceProgram(text, dest, run string) string {
	text, _ = replacePath(text, dest, run)
	i := len(text) - len(strings.TrimLeft(text, " \t"))
	if rest, ok := strings.CutPrefix(text[i:], "exec "); ok {
		i = len(text) - len(strings.TrimLeft(rest, " \t"))
	}
	j := i + strings.IndexAny(text[i:]+" ", " \t;&|")
	if w := text[i:j]; !strings.Contains(w, "/") && resolves(w, dest) {
		text = text[:i] + run + text[j:]
	}
	return text
}

// runInstead rewrites launch l, which starts the payload at dest, to first
// run prep (shell commands that write and chmod the program at run) and
// then exec run in its place with the original arguments: exec form
// becomes ["/bin/sh", "-c", "<prep> && exec <run> \"$@\"", "sh", <args>...],
// so the original arguments and any CMD or `docker run` arguments reach
// the program as "$@"; shell form gets "<prep> && " in front.
func runInstead(l *launch, dest, prep, run string) string {
	if l.json {
		script := prep + " && exec " + run + ` "$@"`
		return l.renderExec(append([]string{"/bin/sh", "-c", script, "sh"}, l.args[1:]...))
	}
	return l.renderShell(prep + " && " + replaceProgram(l.shell, dest, run))
}

// replacePath replaces whole-path occurrences of old in s (not part of a
// longer path or name: "/bin/minerd" does not match in "/usr/bin/minerd"
// or "/bin/minerd.conf").
func replacePath(s, old, repl string) (string, int) {
	nameChar := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/'
	}
	var b strings.Builder
	n := 0
	for {
		i := strings.Index(s, old)
		if i < 0 {
			break
		}
		end := i + len(old)
		if (i == 0 || !nameChar(s[i-1])) && (end == len(s) || !nameChar(s[end])) {
			b.WriteString(s[:i])
			b.WriteString(repl)
			n++
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
	b.WriteString(s)
	return b.String(), n
}

// shQuote quotes s for a POSIX shell, leaving words of safe characters bare.
func shQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
