package layers

import (
	"path"
	"strconv"
	"strings"
)

// Step is a created_by string parsed into the Dockerfile instruction that
// produced it. Builders write different strings for the same instruction
// (BuildKit: `RUN /bin/sh -c make # buildkit`; the legacy builder:
// `/bin/sh -c make` and `/bin/sh -c #(nop)  ADD file:... in /bin/x`), so
// detectors should match on Step, not on created_by.
type Step struct {
	// Instruction is the upper-case instruction (RUN, ADD, COPY, ENV,
	// ENTRYPOINT, CMD, WORKDIR, ...), or "" when created_by is not
	// recognised (then Args is the raw string).
	Instruction string `json:"instruction"`
	// Args are the instruction's arguments; for RUN the shell command with
	// the shell wrapper (`/bin/sh -c`, SHELL options, build-arg prefix
	// `|2 A=1 B=2`) removed, or the exec-form argv joined by spaces.
	Args string `json:"args"`
	// Builder is "buildkit", "legacy" or "" (unknown).
	Builder string `json:"builder,omitempty"`
}

var instructions = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true,
	"EXPOSE": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true, "ONBUILD": true,
	"RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true,
}

// ParseCreatedBy normalises a history created_by string.
func ParseCreatedBy(createdBy string) Step {
	s := strings.TrimSpace(createdBy)
	builder := ""
	if t, ok := strings.CutSuffix(s, "# buildkit"); ok {
		s = strings.TrimSpace(t)
		builder = "buildkit"
	}
	// Legacy metadata steps: `/bin/sh -c #(nop) INSTR args`.
	if before, after, ok := strings.Cut(s, "#(nop)"); ok {
		if _, isShell := shellCommand(strings.TrimSpace(before) + " x"); isShell {
			instr, args := splitInstruction(strings.TrimSpace(after))
			if instructions[instr] {
				return Step{Instruction: instr, Args: args, Builder: "legacy"}
			}
		}
	}
	if instr, args := splitInstruction(s); instructions[instr] {
		if instr == "RUN" {
			args = runCommand(args)
		}
		if builder == "" {
			builder = "other"
		}
		return Step{Instruction: instr, Args: args, Builder: builder}
	}
	// Legacy RUN steps are the bare shell invocation.
	if cmd, ok := shellCommand(stripBuildArgs(s)); ok {
		if builder == "" {
			builder = "legacy"
		}
		return Step{Instruction: "RUN", Args: cmd, Builder: builder}
	}
	return Step{Args: s, Builder: builder}
}

func splitInstruction(s string) (string, string) {
	instr, args, _ := strings.Cut(s, " ")
	return strings.ToUpper(instr), strings.TrimSpace(args)
}

// runCommand unwraps the arguments of a RUN instruction.
func runCommand(args string) string {
	args = stripBuildArgs(args)
	if argv, ok := ParseExecForm(args); ok {
		// Exec form ["/bin/sh","-c","cmd"]: the last element is the script.
		if len(argv) >= 3 {
			if _, ok := shellCommand(strings.Join(argv[:len(argv)-1], " ") + " x"); ok {
				return argv[len(argv)-1]
			}
		}
		return strings.Join(argv, " ")
	}
	if cmd, ok := shellCommand(args); ok {
		return cmd
	}
	return args
}

// stripBuildArgs removes the `|N k=v ...` prefix builders add to RUN steps
// that see build arguments.
func stripBuildArgs(s string) string {
	if !strings.HasPrefix(s, "|") {
		return s
	}
	f := strings.Fields(s)
	n, err := strconv.Atoi(strings.TrimPrefix(f[0], "|"))
	if err != nil || n < 0 || n+1 > len(f) {
		return s
	}
	rest := s
	for i := 0; i <= n; i++ {
		rest = strings.TrimLeft(rest, " ")
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	return strings.TrimSpace(rest)
}

var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "busybox": true}

// shellCommand recognises `SHELL [opts] -c CMD` (e.g. `/bin/bash -o pipefail
// -c CMD`, `/bin/sh -ec CMD`) and returns CMD.
func shellCommand(s string) (string, bool) {
	rest := strings.TrimSpace(s)
	tok, rest := nextField(rest)
	if !shells[path.Base(tok)] {
		return "", false
	}
	if path.Base(tok) == "busybox" {
		tok, rest = nextField(rest)
		if !shells[tok] {
			return "", false
		}
	}
	for rest != "" {
		tok, after := nextField(rest)
		switch {
		case tok == "-c" || (strings.HasPrefix(tok, "-") && !strings.HasPrefix(tok, "--") && strings.HasSuffix(tok, "c")):
			return strings.TrimSpace(after), true
		case tok == "-o" || tok == "+o":
			_, after = nextField(after)
		case strings.HasPrefix(tok, "-") || strings.HasPrefix(tok, "+"):
		default:
			return "", false
		}
		rest = after
	}
	return "", false
}

func nextField(s string) (string, string) {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// ParseExecForm parses an exec-form argument list as written in history:
// JSON (`["a", "b"]`) or BuildKit's Go-quoted form without commas
// (`["a" "b"]`).
func ParseExecForm(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, false
	}
	s = s[1 : len(s)-1]
	argv := []string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return argv, true
		}
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, false
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return nil, false
		}
		argv = append(argv, v)
		s = s[len(q):]
	}
}
