package hierarchical

// Lists a script iterates over: `for p in xmrig kdevtmpfsi kinsing; do
// pkill -f $p; done` and `procs=(a b c); for p in "${procs[@]}"` are how
// public miner scripts write their kill lists (Aqua Security and Trend Micro
// reports on Kinsing and TeamTNT), and `for u in URL1 URL2; do wget $u`
// how they try mirrors. The parser records each loop variable's and array's
// values; expandLists then adds one copy of every command (and pipeline)
// that uses such a variable per value, so the per-command rules see the
// names.

import (
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

const (
	// maxListValues bounds the values kept per loop variable or array.
	maxListValues = 32
	// maxListCopies bounds the commands expandLists adds per script.
	maxListCopies = 512
)

// listRef finds $v, ${v}, ${v[@]}, ${v[*]} references.
var listRef = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:\[[@*]\])?\}|([A-Za-z_][A-Za-z0-9_]*))`)

// recordList notes the values of a for loop or an array assignment.
func (sc *script) recordList(src string, n syntax.Node) {
	add := func(name string, words []*syntax.Word) {
		var vals []string
		for _, w := range words {
			v := renderWord(src, w)
			if m := listRef.FindStringSubmatch(v); m != nil && m[0] == v {
				// for p in "${procs[@]}": the array's values.
				vals = append(vals, sc.lists[m[1]+m[2]]...)
				continue
			}
			vals = append(vals, strings.Fields(v)...)
		}
		if len(vals) > maxListValues {
			vals = vals[:maxListValues]
		}
		if len(vals) == 0 {
			return
		}
		if sc.lists == nil {
			sc.lists = map[string][]string{}
		}
		sc.lists[name] = vals
	}
	switch c := n.(type) {
	case *syntax.ForClause:
		if wi, ok := c.Loop.(*syntax.WordIter); ok && wi.Name != nil {
			add(wi.Name.Value, wi.Items)
		}
	case *syntax.CallExpr:
		for _, a := range c.Assigns {
			if a.Name != nil && a.Array != nil {
				var ws []*syntax.Word
				for _, e := range a.Array.Elems {
					if e.Value != nil {
						ws = append(ws, e.Value)
					}
				}
				add(a.Name.Value, ws)
			}
		}
	}
}

// expandLists adds, for every command and pipeline that uses a list
// variable, one copy per value with the variable replaced.
func (sc *script) expandLists() {
	if len(sc.lists) == 0 {
		return
	}
	budget := maxListCopies
	listOf := func(c command) (string, []string) {
		for _, a := range c.argv {
			for _, m := range listRef.FindAllStringSubmatch(a, -1) {
				if vals, ok := sc.lists[m[1]+m[2]]; ok {
					return m[1] + m[2], vals
				}
			}
		}
		return "", nil
	}
	subst := func(c command, name, val string) command {
		out := c
		out.argv = make([]string, len(c.argv))
		for i, a := range c.argv {
			out.argv[i] = listRef.ReplaceAllStringFunc(a, func(ref string) string {
				m := listRef.FindStringSubmatch(ref)
				if m[1]+m[2] == name {
					return val
				}
				return ref
			})
		}
		return out
	}
	n := len(sc.cmds)
	for i := 0; i < n; i++ {
		name, vals := listOf(sc.cmds[i])
		for _, v := range vals {
			if budget == 0 {
				return
			}
			budget--
			sc.cmds = append(sc.cmds, subst(sc.cmds[i], name, v))
		}
	}
	np := len(sc.pipes)
	for i := 0; i < np; i++ {
		name, vals := "", []string(nil)
		for _, st := range sc.pipes[i] {
			for _, c := range st {
				if name == "" {
					name, vals = listOf(c)
				}
			}
		}
		for _, v := range vals {
			if budget == 0 {
				return
			}
			budget--
			stages := make([][]command, len(sc.pipes[i]))
			for k, st := range sc.pipes[i] {
				for _, c := range st {
					stages[k] = append(stages[k], subst(c, name, v))
				}
			}
			sc.pipes = append(sc.pipes, stages)
		}
	}
}
