package mutations

// The mutations' view of a Dockerfile: the shared model plus the queries
// the types ask along the final stage (insertion points, working
// directory, user, shell, names in use).

import (
	"errors"
	"math/rand/v2"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// dockerfile is the shared Dockerfile model with the queries of this
// package as methods. Edits splice the original text (File.Splice): every
// original line a mutation does not replace survives byte for byte.
type dockerfile struct{ *dfile.File }

// parseDockerfile parses src; a Dockerfile without FROM is
// ErrNoFinalStage.
func parseDockerfile(src []byte) (*dockerfile, error) {
	f, err := dfile.Parse(src)
	if errors.Is(err, dfile.ErrNoStage) {
		return nil, ErrNoFinalStage
	}
	if err != nil {
		return nil, err
	}
	return &dockerfile{f}, nil
}

// point is a place in the final stage where instructions may be inserted.
type point struct {
	after int // insert after this many original lines
	index int // number of final-stage instructions before the point
}

// points lists the final stage's insertion points: right after its FROM
// line and right after each of its instructions, so a final stage with n
// instructions has n+1 points (case 000 of the corpus, an empty final
// stage, has only "after FROM"). "Right after instruction i" is also
// "before instruction i+1's comment block": inserting there can never come
// between a ground-truth marker comment and the instruction it marks, and
// the inserted instruction gets no comment (so no marker) of its own. Only
// the final stage is touched: the benign stages it builds on stay
// byte-identical, and so do BuildKit's cache keys of their layers.
//
// Points where the build runs as a non-root user (after `USER app`, until a
// `USER root`) are left out: the inserted steps write to / and /tmp as
// root, as the paper's do, and a benign image that drops privileges
// (experiment 3 mutates those too) would fail to build there. The corpus
// sample has no USER, so its points are all of them.
func (d *dockerfile) points() []point {
	f := d.Final()
	pts := []point{{after: f.From.EndLine, index: 0}}
	root := true
	for i, n := range f.Instructions {
		if dfile.Is(n, "user") && n.Next != nil {
			root = dfile.IsRoot(n.Next.Value)
		}
		if root {
			pts = append(pts, point{after: n.EndLine, index: i + 1})
		}
	}
	return pts
}

// insertAt inserts lines at an insertion point.
func insertAt(p point, lines ...string) dfile.Edit { return dfile.Insert(p.after, lines...) }

// randomPoint draws one insertion point: before, between or after the
// malicious layers of the sample, uniformly among points().
func (d *dockerfile) randomPoint(rng *rand.Rand) point {
	pts := d.points()
	return pts[rng.IntN(len(pts))]
}

// beforeFinalStage is where a new stage goes: after the last instruction
// that precedes the final FROM (so before the final FROM's comment block),
// or right before the final FROM line when nothing precedes it (parser
// directives at the top stay first).
func (d *dockerfile) beforeFinalStage() int {
	f := d.Final()
	after := f.From.StartLine - 1
	for _, n := range d.Nodes {
		if n == f.From {
			break
		}
		after = n.EndLine
	}
	return after
}

// stageNameFree reports whether no stage is called name.
func (d *dockerfile) stageNameFree(name string) bool {
	for _, st := range d.Stages {
		if st.Name == strings.ToLower(name) {
			return false
		}
	}
	return true
}

// workdirAt is the working directory in effect at p: the WORKDIR
// instructions along the final stage's FROM chain applied in order, relative
// ones joined to the previous value. Without any, the external base image's
// working directory is unknown from the text and "/" (the default, and the
// paper's choice) is returned. Values are taken literally: a WORKDIR with
// variables is restored with the same text, which BuildKit expands again.
func (d *dockerfile) workdirAt(p point, base string) string {
	wd := "/"
	if path.IsAbs(base) {
		wd = path.Clean(base)
	}
	for _, n := range d.before(p) {
		if !dfile.Is(n, "workdir") || n.Next == nil {
			continue
		}
		if v := n.Next.Value; path.IsAbs(v) || strings.HasPrefix(v, "$") {
			wd = v
		} else {
			wd = path.Join(wd, v)
		}
	}
	return wd
}

// userAt is the USER in effect at p along the final stage's chain ("" when
// none is set there: the base image's, which dfile.IsRoot takes for root).
func (d *dockerfile) userAt(p point) string {
	u := ""
	for _, n := range d.before(p) {
		if dfile.Is(n, "user") && n.Next != nil {
			u = n.Next.Value
		}
	}
	return u
}

// before lists the instructions that run before point p along the final
// stage's FROM chain: every earlier stage of the chain, then the final
// stage's up to p.
func (d *dockerfile) before(p point) []*parser.Node {
	ch := d.Chain()
	var out []*parser.Node
	for _, st := range ch[:len(ch)-1] {
		out = append(out, st.Instructions...)
	}
	return append(out, d.Final().Instructions[:p.index]...)
}

// shellOf is the SHELL in effect for n along the chain, nil for the
// default /bin/sh -c.
func (d *dockerfile) shellOf(n *parser.Node) []string {
	var sh []string
	for _, st := range d.Chain() {
		for _, m := range st.Instructions {
			if m == n {
				return sh
			}
			if dfile.Is(m, "shell") && m.Attributes["json"] {
				sh = nil
				for a := m.Next; a != nil; a = a.Next {
					sh = append(sh, a.Value)
				}
			}
		}
	}
	return sh
}

// names lists the ENV and ARG names set anywhere in the Dockerfile.
func (d *dockerfile) names() map[string]bool {
	out := map[string]bool{}
	for _, n := range d.Nodes {
		switch {
		case dfile.Is(n, "env"):
			// name, value, "=" triplets
			var vals []string
			for a := n.Next; a != nil; a = a.Next {
				vals = append(vals, a.Value)
			}
			for i := 0; i < len(vals); i += 3 {
				out[vals[i]] = true
			}
		case dfile.Is(n, "arg"):
			for a := n.Next; a != nil; a = a.Next {
				k, _, _ := strings.Cut(a.Value, "=")
				out[k] = true
			}
		}
	}
	return out
}

// dests lists every ADD/COPY destination of the Dockerfile (cleaned).
func (d *dockerfile) dests() map[string]bool {
	out := map[string]bool{}
	for _, n := range d.Nodes {
		if a, ok := parseAddCopy(n, 0); ok {
			out[path.Clean(a.dest)] = true
		}
	}
	return out
}
