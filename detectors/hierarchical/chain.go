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
	// reads are files the commands read as code or configuration or
	// unpack: -c/--config FILE, the script an interpreter runs (python3
	// app.py, node x.js, java -jar x.jar), package.json for npm start, and
	// archives (tar -xzf, unzip, gunzip, xz -d, zstd -d, bunzip2, 7z x).
	reads []string
}

// scriptDirMarker replaces $(dirname "$0") and its variants in a program
// word; it is resolved against the script's path after the walk.
const scriptDirMarker = "\x00scriptdir"

// envMarker brackets a variable a script does not assign (\x01NAME\x01 in a
// stored word), replaced from the config's ENV on the start graph.
const envMarker = "\x01"

var (
	// dirnameOf0 is $(dirname "$0") with BASH_SOURCE for $0.
	dirnameOf0 = `\$\(\s*dirname\s+(?:--\s+)?"?\$\{?(?:0|BASH_SOURCE(?:\[0\])?)\}?"?\s*\)`
	// varRef is $NAME, ${NAME} or ${NAME:-default} (also ${NAME-default},
	// ${NAME:=default}); groups: name, default, name.
	varRef = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]([^}$]*))?\}|([A-Za-z_][A-Za-z0-9_]*))`)
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
			name := m[1] + m[3]
			if v, known := vars[name]; known {
				return v
			}
			if strings.Contains(ref, "-") || strings.Contains(ref, "=") {
				return m[2] // ${X:-default}
			}
			// Left for the config's ENV (envMarker, expanded on the
			// start graph).
			return envMarker + name + envMarker
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
	seenProg, seenDir, seenRead := map[string]bool{}, map[string]bool{}, map[string]bool{}
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
		for _, r := range readsOf(eff) {
			if x, ok := expand(r); ok && !seenRead[x] && len(out.reads) < maxScriptProgs {
				seenRead[x] = true
				out.reads = append(out.reads, x)
			}
		}
		w := eff[0]
		if shellNames[progName(w)] {
			w = shellScriptArg(eff[1:]) // sh -x /opt/start.sh; sh -c is parsed as a script
			if w == "" {
				continue
			}
		}
		if m := listRef.FindStringSubmatch(w); m != nil && sc.lists[m[1]+m[2]] != nil {
			continue // the loop's expanded copies name the programs
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

// readsOf returns the files a command reads as configuration or code, or
// unpacks (see scriptRuns.reads).
func readsOf(eff []string) []string {
	prog, args := progName(eff[0]), eff[1:]
	var out []string
	nonOpts := func(from []string) []string {
		var r []string
		for _, a := range from {
			if a != "" && !strings.HasPrefix(a, "-") {
				r = append(r, a)
			}
		}
		return r
	}
	switch {
	case prog == "tar":
		extract := false
		for i, a := range args {
			switch {
			case a == "--extract" || a == "--get" || (strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "x")) ||
				(i == 0 && !strings.HasPrefix(a, "-") && strings.Contains(a, "x")):
				extract = true
			}
			if strings.HasPrefix(a, "--file=") {
				out = append(out, strings.TrimPrefix(a, "--file="))
			} else if (a == "--file" || (!strings.HasPrefix(a, "--") && strings.HasSuffix(a, "f") && (strings.HasPrefix(a, "-") || i == 0))) && i+1 < len(args) {
				out = append(out, args[i+1])
			}
		}
		if !extract {
			return nil
		}
	case prog == "unzip" || prog == "gunzip" || prog == "bunzip2" || prog == "unxz" || prog == "unzstd" || prog == "unlzma" || prog == "zcat" || prog == "xzcat" || prog == "bzcat" || prog == "zstdcat":
		out = nonOpts(args)
	case prog == "gzip" || prog == "xz" || prog == "zstd" || prog == "bzip2" || prog == "lzma":
		if contains(args, "-d") || contains(args, "--decompress") || contains(args, "-dc") || contains(args, "-cd") {
			out = nonOpts(args)
		}
	case prog == "7z" || prog == "7za":
		if len(args) > 1 && (args[0] == "x" || args[0] == "e") {
			out = nonOpts(args[1:])
		}
	case prog == "java":
		for i, a := range args {
			if a == "-jar" && i+1 < len(args) {
				out = append(out, args[i+1])
			}
		}
	case prog == "npm" || prog == "yarn" || prog == "pnpm":
		if len(args) > 0 && (args[0] == "start" || args[0] == "run" || args[0] == "run-script") {
			out = append(out, "package.json")
		}
	case interpreter[prog] || strings.HasPrefix(prog, "python") || prog == "nodejs":
		if shellNames[prog] {
			break
		}
		for _, a := range args {
			if a == "-c" || a == "-e" || a == "-m" {
				break
			}
			if !strings.HasPrefix(a, "-") {
				out = append(out, a)
				break
			}
		}
	}
	// -c FILE / --config FILE of any other program (xmrig, cpuminer, and a
	// renamed copy): not sh -c, python -c, whose -c takes code.
	if !interpreter[prog] && !strings.HasPrefix(prog, "python") && prog != "tar" {
		for i, a := range args {
			switch {
			case (a == "-c" || a == "--config" || a == "-config" || a == "--config-file") && i+1 < len(args):
				out = append(out, args[i+1])
			case strings.HasPrefix(a, "--config="):
				out = append(out, strings.TrimPrefix(a, "--config="))
			}
		}
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
