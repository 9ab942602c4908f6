package hierarchical

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/strata-sec/strata/internal/layers"
)

// The start chain: ENTRYPOINT/CMD often starts a wrapper script (run.sh,
// init.sh, docker-entrypoint.sh) that runs the payload under another name
// (Aqua Security and Trend Micro reports on Kinsing: kdevtmpfsi started by a
// wrapper script; renamed binaries). Stage 1 records, per shell script, the programs it
// runs (variables assigned in the script expanded, wrappers such as nohup,
// exec, setsid stripped) and the directories it cd's into; this depends only
// on the script's bytes, so it is cached with the file. After the walk the
// chain is followed in the final view: config -> script -> program (-> ...),
// up to maxChainDepth scripts deep, and strong evidence in any program on it
// is tied back to the config (hier-started-flagged-file).

const (
	maxChainDepth  = 3
	maxScriptProgs = 32
	maxProgWord    = 256
)

// scriptRuns is what a script runs: program words (absolute, relative, or
// bare names looked up in PATH; scriptDirMarker stands for the script's own
// directory) and absolute directories it changes into.
type scriptRuns struct {
	progs []string
	dirs  []string
}

// scriptDirMarker replaces $(dirname "$0") and its variants in a program
// word; it is resolved against the script's path after the walk.
const scriptDirMarker = "\x00scriptdir"

var (
	// dirnameOf0 is $(dirname "$0") with BASH_SOURCE for $0.
	dirnameOf0 = `\$\(\s*dirname\s+(?:--\s+)?"?\$\{?(?:0|BASH_SOURCE(?:\[0\])?)\}?"?\s*\)`
	varRef     = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)
	// $(dirname "$0"), $(cd "$(dirname "$0")" && pwd), ${0%/*}, with
	// BASH_SOURCE for $0.
	dirnameSelf = regexp.MustCompile(`\$\(\s*cd\s+(?:--\s+)?"?` + dirnameOf0 + `"?\s*&&\s*pwd(?:\s+-P)?\s*\)|` + dirnameOf0 + `|\$\{0%/\*\}`)
	// shellBuiltins and utilities whose resolution never matters.
	skipProgs = map[string]bool{
		"echo": true, "printf": true, "cd": true, "test": true, "[": true, "[[": true, "set": true, "export": true,
		"exit": true, "sleep": true, "true": true, "false": true, "read": true, "local": true, "shift": true,
		"trap": true, "return": true, "wait": true, ":": true, "break": true, "continue": true, "ulimit": true,
		"umask": true, "unset": true, "alias": true, "let": true, "declare": true, "typeset": true, "readonly": true,
		"source": true, ".": true, "eval": true, "exec": true, "cat": true, "rm": true, "mkdir": true, "chmod": true,
		"chown": true, "cp": true, "mv": true, "ln": true, "grep": true, "sed": true, "awk": true, "tr": true,
		"head": true, "tail": true, "touch": true, "dirname": true, "basename": true, "pwd": true, "date": true,
	}
)

// scriptRunsOf extracts what a parsed script runs.
func scriptRunsOf(sc script) scriptRuns {
	var out scriptRuns
	vars := map[string]string{}
	expand := func(w string) (string, bool) {
		w = dirnameSelf.ReplaceAllString(w, scriptDirMarker)
		ok := true
		w = varRef.ReplaceAllStringFunc(w, func(ref string) string {
			m := varRef.FindStringSubmatch(ref)
			name := m[1] + m[2]
			if v, known := vars[name]; known {
				return v
			}
			ok = false
			return ref
		})
		if !ok || strings.ContainsAny(w, "`$*?") || w == "" || len(w) > maxProgWord {
			return "", false
		}
		return w, true
	}
	assign := func(kv string) {
		name, val, found := strings.Cut(kv, "=")
		if !found || !isVarName(name) {
			return
		}
		if v, ok := expand(val); ok {
			vars[name] = v
		} else {
			delete(vars, name)
		}
	}
	seenProg, seenDir := map[string]bool{}, map[string]bool{}
	for _, c := range sc.cmds {
		if len(c.argv) == 0 {
			for _, a := range c.assigns {
				assign(a)
			}
			continue
		}
		switch progName(c.argv[0]) {
		case "export", "declare", "typeset", "readonly", "local":
			for _, a := range c.argv[1:] {
				assign(a)
			}
			continue
		case "cd":
			if len(c.argv) > 1 {
				if d, ok := expand(c.argv[len(c.argv)-1]); ok && (path.IsAbs(d) || strings.HasPrefix(d, scriptDirMarker)) && !seenDir[d] && len(out.dirs) < maxScriptProgs {
					seenDir[d] = true
					out.dirs = append(out.dirs, d)
				}
			}
			continue
		}
		eff, _ := effective(c.argv)
		if len(eff) == 0 {
			continue
		}
		w := eff[0]
		if shellNames[progName(w)] {
			w = shellScriptArg(eff[1:]) // sh -x /opt/start.sh; sh -c is parsed as a script
			if w == "" {
				continue
			}
		}
		x, ok := expand(w)
		if !ok || (!strings.Contains(x, "/") && skipProgs[x]) || seenProg[x] || len(out.progs) >= maxScriptProgs {
			continue
		}
		seenProg[x] = true
		out.progs = append(out.progs, x)
	}
	return out
}

// shellScriptArg returns the script file a shell's arguments run ("" for
// -c, -s or none).
func shellScriptArg(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		case a == "-o" || a == "+o" || a == "-O" || a == "+O":
			i++ // option name
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			if !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "cs") {
				return ""
			}
		default:
			return a
		}
	}
	return ""
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// startedPrograms returns the program words the container command starts:
// ENTRYPOINT+CMD, and CMD alone when both are set (wrappers exec "$@").
func startedPrograms(cfg v1.Config) []string {
	var out []string
	argvs := [][]string{append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)}
	if len(cfg.Entrypoint) > 0 && len(cfg.Cmd) > 0 {
		argvs = append(argvs, cfg.Cmd)
	}
	for _, argv := range argvs {
		if p := startedProgram(argv); p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// startedProgram is the program an argv starts after wrappers: the program
// itself, the first word of `sh -c "..."`, or the script of `sh /start.sh`.
func startedProgram(argv []string) string {
	eff, _ := effective(argv)
	if len(eff) == 0 {
		return ""
	}
	prog := eff[0]
	if shellNames[progName(prog)] && len(eff) > 1 {
		if inner := shellCArg(eff[1:]); inner != "" {
			sub := parseShell(inner)
			for _, c := range sub.cmds {
				if e, _ := effective(c.argv); len(e) > 0 {
					return e[0]
				}
			}
			return ""
		}
		if script := shellScriptArg(eff[1:]); script != "" {
			return script
		}
	}
	return prog
}

// followStart adds hier-started-flagged-file for every program on the chain
// that starts at e (reached as described by how) and carries strong evidence.
func (s *scan) followStart(cfg v1.Config, how string, e *layers.Entry, strong map[string][]string, visited map[*layers.Entry]bool, depth int) {
	if visited[e] {
		return
	}
	visited[e] = true
	if rs := strong[e.Path]; len(rs) > 0 {
		sort.Strings(rs)
		s.add(RuleStartedFlaggedFile, e.Layer, e.Path, "", e, fmt.Sprintf("%s, which carries %s", how, strings.Join(rs, ", ")))
	}
	runs, ok := s.scripts[e]
	if !ok || depth >= maxChainDepth {
		return
	}
	for _, p := range runs.progs {
		t := s.resolveFrom(p, cfg, e, runs.dirs)
		if t == nil {
			continue
		}
		s.followStart(cfg, fmt.Sprintf("%s, which runs /%s", how, t.Path), t, strong, visited, depth+1)
	}
}

// resolveFrom resolves a program word of a script: absolute, relative to
// the directories the script cd's into, the WorkingDir or its own
// directory, or a bare name in PATH.
func (s *scan) resolveFrom(word string, cfg v1.Config, script *layers.Entry, dirs []string) *layers.Entry {
	self := path.Dir("/" + script.Path)
	fix := func(w string) string { return strings.ReplaceAll(w, scriptDirMarker, self) }
	word = fix(word)
	if path.IsAbs(word) || !strings.Contains(word, "/") {
		return s.resolve(word, cfg)
	}
	var bases []string
	for _, d := range dirs {
		bases = append(bases, fix(d))
	}
	wd := cfg.WorkingDir
	if wd == "" {
		wd = "/"
	}
	bases = append(bases, wd, self)
	for _, b := range bases {
		if e := s.resolve(path.Join(b, word), cfg); e != nil {
			return e
		}
	}
	return nil
}
