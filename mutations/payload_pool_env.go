package mutations

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func init() {
	Register(poolEnv{info{
		name:        "pool-env",
		version:     "1",
		description: "moves the URL arguments (the pool) of the ENTRYPOINT/CMD into base64-encoded ENV variables with random names, decoded at run time by a /bin/sh -c command",
		paperRef:    "— (experiment 3)",
	}})
}

// poolEnv hides the pool URL from the command line: each URL (scheme://
// host..., also inside an argument such as --url=...) of the exec-form
// ENTRYPOINT/CMD of the final stage goes into `ENV <NAME>=<base64>`, and
// the command becomes
//
//	["/bin/sh", "-c", "exec '<program>' ... \"$(echo \"$NAME\" | base64 -d)\" ... \"$@\"", "sh"]
//
// (arguments shell-quoted, CMD and `docker run` arguments as "$@"). A CMD
// with a URL that feeds an exec-form ENTRYPOINT of the final stage is
// folded into the ENTRYPOINT's script and becomes `CMD []` (`docker run`
// arguments are then appended instead of replacing it). In shell form a
// URL that is a word of its own outside quotes is replaced by the same
// expansion. The ENV lines carry the marker of the instruction the URL
// came from; they go right before the rewritten instruction.
// ErrNotApplicable without a URL argument.
type poolEnv struct{ info }

func (poolEnv) MutatePayload(p *Payload, rng *rand.Rand, _ Env) error {
	d, err := parseDockerfile(p.Dockerfile)
	if err != nil {
		return err
	}
	taken := d.names()
	vars := map[string]string{} // URL -> variable
	type envLine struct{ line, tag string }
	var envs []envLine
	varFor := func(u, tag string) string {
		if v, ok := vars[u]; ok {
			return v
		}
		var v string
		for v == "" || taken[v] {
			v = pick(rng, []string{"APP", "SVC", "NODE", "CFG", "DATA", "CACHE", "SYNC", "METRICS", "WORKER", randName(rng, strings.ToUpper(lower), 3, 6)}) +
				"_" + pick(rng, []string{"ENDPOINT", "UPSTREAM", "TOKEN", "ADDR", "REMOTE", "BACKEND", "OPTS", "ID"})
		}
		taken[v] = true
		vars[u] = v
		envs = append(envs, envLine{"ENV " + v + "=" + base64.StdEncoding.EncodeToString([]byte(u)), tag})
		return v
	}
	decode := func(v string) string { return `"$(echo "$` + v + `" | base64 -d)"` }
	// word renders one exec-form argument as a shell word, URLs decoded.
	word := func(arg, tag string) (string, int) {
		var b strings.Builder
		n, last := 0, 0
		for _, m := range urlRE.FindAllStringIndex(arg, -1) {
			if !hasHost(arg[m[0]:m[1]]) {
				continue
			}
			if m[0] > last {
				b.WriteString(shQuote(arg[last:m[0]]))
			}
			b.WriteString(decode(varFor(arg[m[0]:m[1]], tag)))
			last, n = m[1], n+1
		}
		if n == 0 {
			return shQuote(arg), 0
		}
		if last < len(arg) {
			b.WriteString(shQuote(arg[last:]))
		}
		return b.String(), n
	}
	words := func(l *launch) ([]string, int) {
		tag := dfile.Marker(l.node)
		out, total := make([]string, len(l.args)), 0
		for i, a := range l.args {
			var n int
			out[i], n = word(a, tag)
			total += n
		}
		return out, total
	}
	hasURL := func(l *launch) bool {
		if l == nil || !l.final {
			return false
		}
		s := l.shell
		if l.json {
			s = strings.Join(l.args, " ")
		}
		for _, u := range urlRE.FindAllString(s, -1) {
			if hasHost(u) {
				return true
			}
		}
		return false
	}

	ep, cmd := d.launches()
	var edits []dfile.Edit
	// rewrite replaces l by the ENV lines drawn so far and line, which
	// carries tag. l's comment block stays above the first of them.
	rewrite := func(l *launch, line, tag string) {
		block := dfile.Marker(l.node)
		var lines []string
		for i, e := range append(envs, envLine{line, tag}) {
			if i == 0 && e.tag == block {
				lines = append(lines, e.line)
				continue
			}
			lines = append(lines, dfile.Marked(e.tag, e.line)...)
		}
		edits = append(edits, dfile.Replace(l.node, lines...))
		envs = nil
	}
	script := func(ws []string) string { return "exec " + strings.Join(ws, " ") + ` "$@"` }
	shellForm := func(l *launch) {
		tag := dfile.Marker(l.node)
		text, n := l.shell, 0
		var b strings.Builder
		last := 0
		for _, m := range urlRE.FindAllStringIndex(text, -1) {
			u := text[m[0]:m[1]]
			pre := text[:m[0]]
			okBefore := m[0] == 0 || strings.ContainsRune(" \t=", rune(text[m[0]-1]))
			okAfter := m[1] == len(text) || strings.ContainsRune(" \t;&|)", rune(text[m[1]]))
			if !hasHost(u) || !okBefore || !okAfter || strings.Count(pre, `"`)%2 == 1 || strings.Count(pre, "'")%2 == 1 {
				continue
			}
			b.WriteString(text[last:m[0]])
			b.WriteString(decode(varFor(u, tag)))
			last, n = m[1], n+1
		}
		if n > 0 {
			b.WriteString(text[last:])
			rewrite(l, l.renderShell(b.String()), tag)
		}
	}

	switch {
	case ep != nil && ep.final && ep.json:
		epWords, n := words(ep)
		if hasURL(cmd) && cmd.json {
			// Fold the CMD's arguments into the script: they are literal
			// there, and the CMD is emptied.
			cmdWords, m := words(cmd)
			epWords = append(epWords, cmdWords...)
			n += m
			tag := dfile.Marker(ep.node)
			if tag == "" {
				tag = dfile.Marker(cmd.node)
			}
			edits = append(edits, dfile.Replace(cmd.node, cmd.renderExec(nil)))
			rewrite(ep, ep.renderExec([]string{"/bin/sh", "-c", script(epWords), "sh"}), tag)
		} else if n > 0 {
			rewrite(ep, ep.renderExec([]string{"/bin/sh", "-c", script(epWords), "sh"}), dfile.Marker(ep.node))
		}
	case ep != nil && ep.final:
		shellForm(ep)
	case ep == nil && cmd != nil && cmd.final && cmd.json:
		ws, n := words(cmd)
		if n > 0 {
			rewrite(cmd, cmd.renderExec([]string{"/bin/sh", "-c", script(ws), "sh"}), dfile.Marker(cmd.node))
		}
	case ep == nil && cmd != nil && cmd.final:
		shellForm(cmd)
	}
	if len(edits) == 0 || len(vars) == 0 {
		return fmt.Errorf("%w: no URL argument (scheme://host...) in an ENTRYPOINT/CMD of the final stage this type can rewrite", ErrNotApplicable)
	}
	p.Dockerfile = d.Splice(edits...)
	return nil
}
