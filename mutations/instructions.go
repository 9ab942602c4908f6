package mutations

// Reading and writing single Dockerfile instructions for the payload
// types: ADD/COPY and their sources, and ground-truth markers on the lines
// that replace a marked instruction.

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// replacing returns the lines that replace an instruction whose comment
// block (and marker tag) stays above them: the first instruction inherits
// the block, every later one gets the marker line of its own.
func replacing(tag string, instrs ...string) []string {
	var out []string
	for i, l := range instrs {
		if i == 0 {
			out = append(out, l)
			continue
		}
		out = append(out, dfile.Marked(tag, l)...)
	}
	return out
}

// addCopy is a parsed ADD or COPY instruction.
type addCopy struct {
	node  *parser.Node
	index int    // in the final stage's instructions
	cmd   string // "ADD" or "COPY"
	flags []string
	srcs  []string
	dest  string
}

func parseAddCopy(n *parser.Node, index int) (addCopy, bool) {
	if !dfile.Is(n, "add") && !dfile.Is(n, "copy") || len(n.Heredocs) > 0 {
		return addCopy{}, false
	}
	var args []string
	for a := n.Next; a != nil; a = a.Next {
		args = append(args, a.Value)
	}
	if len(args) < 2 {
		return addCopy{}, false
	}
	return addCopy{node: n, index: index, cmd: strings.ToUpper(n.Value), flags: n.Flags,
		srcs: args[:len(args)-1], dest: args[len(args)-1]}, true
}

func (a addCopy) flag(name string) (string, bool) {
	for _, f := range a.flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
		if f == "--"+name {
			return "", true
		}
	}
	return "", false
}

// renderAddCopy writes an ADD/COPY with the given flags, in JSON form when
// a path needs quoting.
func renderAddCopy(cmd string, flags []string, src, dest string) string {
	head := strings.Join(append([]string{cmd}, flags...), " ")
	if strings.ContainsAny(src+dest, " \t\"'\\") || strings.HasPrefix(src, "[") {
		return head + " " + dfile.JSONArray([]string{src, dest})
	}
	return head + " " + src + " " + dest
}

// contextSource is the slash path, relative to the context root, of an
// ADD/COPY's single local source; ok is false for several sources, --from,
// --parents, URLs, git sources, wildcards and variables.
func contextSource(a addCopy) (string, bool) {
	if len(a.srcs) != 1 {
		return "", false
	}
	if _, ok := a.flag("from"); ok {
		return "", false
	}
	if _, ok := a.flag("parents"); ok {
		return "", false
	}
	src := a.srcs[0]
	if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") || strings.ContainsAny(src, "*?[$") {
		return "", false
	}
	rel := strings.TrimPrefix(path.Clean("/"+src), "/")
	if rel == "" {
		return "", false
	}
	return rel, true
}
