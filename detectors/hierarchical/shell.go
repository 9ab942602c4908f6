package hierarchical

import (
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// command is one simple command as the detector sees it: words rendered to
// strings (quotes removed, expansions kept as written, e.g. "$(curl x)").
type command struct {
	argv       []string
	assigns    []string // NAME=value prefixes
	background bool     // cmd &
	redirs     []redirect
	heredoc    string // body of a <<EOF redirect, if any
}

type redirect struct {
	op     string // ">", ">>", "<<", ...
	target string
}

// script is a parsed shell text: every simple command in source order, and
// every pipeline of two or more stages (a stage is all commands inside it,
// so `(crontab -l; echo x) | crontab -` has a two-command first stage).
type script struct {
	cmds  []command
	pipes [][][]command
	// unparsed is shell text the parser was not given (see
	// shellNestingExceeded), with the reason.
	unparsed []unparsed
	// lists are the values of for-loop variables and arrays
	// (shell_loops.go).
	lists map[string][]string
}

type unparsed struct {
	why, text string
}

// maxShellDepth bounds recursion into `sh -c STRING` and `eval STRING`.
const maxShellDepth = 3

// parseShell parses src as bash. Text that does not parse (Dockerfile
// fragments, cron lines with odd quoting, zsh) falls back to a tokenizer that
// splits on newlines, ;, &&, || and |, which is enough for the rules below.
func parseShell(src string) script { return parseShellDepth(src, 0) }

func parseShellDepth(src string, depth int) script {
	if why := shellNestingExceeded(src); why != "" {
		return script{unparsed: []unparsed{{why: why, text: src}}}
	}
	return parseBash(src, depth)
}

// parseBash parses src that passed the nesting bound.
func parseBash(src string, depth int) script {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	var sc script
	if err != nil {
		sc = fallbackParse(src)
	} else {
		consumed := map[*syntax.BinaryCmd]bool{}
		syntax.Walk(f, func(n syntax.Node) bool {
			st, ok := n.(*syntax.Stmt)
			if !ok {
				return true
			}
			sc.recordList(src, st.Cmd)
			switch c := st.Cmd.(type) {
			case *syntax.CallExpr:
				sc.cmds = append(sc.cmds, toCommand(src, c, st))
			case *syntax.DeclClause:
				sc.cmds = append(sc.cmds, declCommand(src, c, st))
			case *syntax.BinaryCmd:
				if (c.Op == syntax.Pipe || c.Op == syntax.PipeAll) && !consumed[c] {
					sc.pipes = append(sc.pipes, flattenPipe(src, c, consumed))
				}
			}
			return true
		})
		sc.expandLists()
	}
	if depth >= maxShellDepth {
		return sc
	}
	// Commands handed to another shell as a string are scripts too.
	n := len(sc.cmds)
	for i := 0; i < n; i++ {
		eff, _ := effective(sc.cmds[i].argv)
		if len(eff) == 0 {
			continue
		}
		var inner string
		switch prog := progName(eff[0]); {
		case prog == "eval":
			inner = strings.Join(eff[1:], " ")
		case shellNames[prog]:
			inner = shellCArg(eff[1:])
		}
		if inner == "" {
			continue
		}
		sub := parseShellDepth(inner, depth+1)
		sc.cmds = append(sc.cmds, sub.cmds...)
		sc.pipes = append(sc.pipes, sub.pipes...)
		sc.unparsed = append(sc.unparsed, sub.unparsed...)
	}
	return sc
}

var shellNames = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

// shellCArg returns the script of `sh [opts] -c SCRIPT ...`, or "".
func shellCArg(args []string) string {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			return ""
		}
		if a == "-c" || (!strings.HasPrefix(a, "--") && strings.HasSuffix(a, "c")) {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		if a == "-o" {
			// The option name follows; it is not a script.
			continue
		}
	}
	return ""
}

func flattenPipe(src string, b *syntax.BinaryCmd, consumed map[*syntax.BinaryCmd]bool) [][]command {
	consumed[b] = true
	var stages [][]command
	for _, st := range []*syntax.Stmt{b.X, b.Y} {
		if inner, ok := st.Cmd.(*syntax.BinaryCmd); ok && (inner.Op == syntax.Pipe || inner.Op == syntax.PipeAll) {
			stages = append(stages, flattenPipe(src, inner, consumed)...)
			continue
		}
		var stage []command
		syntax.Walk(st, func(n syntax.Node) bool {
			if s, ok := n.(*syntax.Stmt); ok {
				if c, ok := s.Cmd.(*syntax.CallExpr); ok {
					stage = append(stage, toCommand(src, c, s))
				}
			}
			return true
		})
		stages = append(stages, stage)
	}
	return stages
}

func toCommand(src string, c *syntax.CallExpr, st *syntax.Stmt) command {
	cmd := command{background: st.Background}
	for _, a := range c.Assigns {
		if a.Name != nil {
			cmd.assigns = append(cmd.assigns, a.Name.Value+"="+renderWord(src, a.Value))
		}
	}
	for _, w := range c.Args {
		cmd.argv = append(cmd.argv, renderWord(src, w))
	}
	addRedirs(src, &cmd, st)
	return cmd
}

func addRedirs(src string, cmd *command, st *syntax.Stmt) {
	for _, r := range st.Redirs {
		cmd.redirs = append(cmd.redirs, redirect{op: r.Op.String(), target: renderWord(src, r.Word)})
		if r.Hdoc != nil {
			cmd.heredoc += renderWord(src, r.Hdoc)
		}
	}
}

// declCommand turns `export A=b`, `declare -x A=b` into a plain command.
func declCommand(src string, d *syntax.DeclClause, st *syntax.Stmt) command {
	cmd := command{background: st.Background}
	if d.Variant != nil {
		cmd.argv = append(cmd.argv, d.Variant.Value)
	}
	for _, a := range d.Args {
		switch {
		case a.Name != nil && a.Naked:
			cmd.argv = append(cmd.argv, a.Name.Value)
		case a.Name != nil:
			cmd.argv = append(cmd.argv, a.Name.Value+"="+renderWord(src, a.Value))
		case a.Value != nil:
			cmd.argv = append(cmd.argv, renderWord(src, a.Value))
		}
	}
	addRedirs(src, &cmd, st)
	return cmd
}

// RenderWord is a shell word of src (the text w was parsed from) as
// command evidence quotes it: quotes removed, expansions in their source
// form, each expansion bounded (maxRenderedExpansion). The dockerfile
// detector renders words with it to find where a finding's evidence is.
func RenderWord(src string, w *syntax.Word) string { return renderWord(src, w) }

func renderWord(src string, w *syntax.Word) string {
	if w == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range w.Parts {
		renderPart(&b, src, p)
	}
	return b.String()
}

// maxRenderedExpansion bounds how much of one expansion a word renders.
// Printing a node prints its whole subtree, and every command inside a
// nested "$(...)" renders the expansions around it again: 10k nested
// substitutions rendered 10k, 10k-1, ... levels (101 s, 937 MB). An
// expansion up to this size is printed as before; a larger one renders as
// the first maxRenderedExpansion bytes of its source, so a word costs at most
// that much, whatever it nests. The commands inside are analysed on their
// own either way.
const maxRenderedExpansion = 1024

func renderPart(b *strings.Builder, src string, p syntax.WordPart) {
	switch p := p.(type) {
	case *syntax.Lit:
		b.WriteString(p.Value)
	case *syntax.SglQuoted:
		b.WriteString(p.Value)
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			renderPart(b, src, q)
		}
	default:
		// Expansions keep their source form: "$(curl x)", "<(wget y)", "$HOME".
		start, end := int(p.Pos().Offset()), int(p.End().Offset())
		if end-start <= maxRenderedExpansion || start >= len(src) {
			_ = syntax.NewPrinter().Print(b, p)
			return
		}
		b.WriteString(src[start:min(start+maxRenderedExpansion, len(src))])
	}
}

var fallbackSplit = regexp.MustCompile(`&&|\|\||;|\n`)

func fallbackParse(src string) script {
	var sc script
	for _, seg := range fallbackSplit.Split(src, -1) {
		seg = strings.TrimSpace(seg)
		bg := false
		if s, ok := strings.CutSuffix(seg, "&"); ok {
			seg, bg = strings.TrimSpace(s), true
		}
		if seg == "" || strings.HasPrefix(seg, "#") {
			continue
		}
		var pipe [][]command
		for _, stage := range strings.Split(seg, "|") {
			var argv []string
			for _, f := range strings.Fields(stage) {
				argv = append(argv, strings.Trim(f, `"'()`))
			}
			if len(argv) == 0 {
				continue
			}
			c := command{argv: argv, background: bg}
			sc.cmds = append(sc.cmds, c)
			pipe = append(pipe, []command{c})
		}
		if len(pipe) > 1 {
			sc.pipes = append(sc.pipes, pipe)
		}
	}
	return sc
}
