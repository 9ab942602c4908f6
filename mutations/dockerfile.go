package mutations

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ErrNoFinalStage is returned for a Dockerfile without a FROM instruction.
var ErrNoFinalStage = errors.New("dockerfile has no FROM: no final stage to mutate")

// info carries the four descriptive methods every type shares.
type info struct{ name, version, description, paperRef string }

func (i info) Name() string        { return i.name }
func (i info) Version() string     { return i.version }
func (i info) Description() string { return i.description }
func (i info) PaperRef() string    { return i.paperRef }

// dockerfile is a parsed Dockerfile kept next to its original lines.
// BuildKit's parser gives line positions but cannot print an AST back, so
// mutations splice new text between the original lines and never re-render
// anything they did not add.
type dockerfile struct {
	lines  []string // original lines, each with its terminator (the last may lack one)
	nodes  []*parser.Node
	stages []*stage
}

type stage struct {
	from  *parser.Node
	base  string // lower-cased FROM argument: an image or a stage name
	name  string // lower-cased AS name, "" if none
	instr []*parser.Node
}

func parseDockerfile(src []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	d := &dockerfile{nodes: res.AST.Children}
	for rest := src; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			d.lines = append(d.lines, string(rest))
			break
		}
		d.lines = append(d.lines, string(rest[:i+1]))
		rest = rest[i+1:]
	}
	for _, n := range d.nodes {
		if strings.EqualFold(n.Value, "from") {
			st := &stage{from: n}
			if n.Next != nil {
				st.base = strings.ToLower(n.Next.Value)
				if a := n.Next.Next; a != nil && strings.EqualFold(a.Value, "as") && a.Next != nil {
					st.name = strings.ToLower(a.Next.Value)
				}
			}
			d.stages = append(d.stages, st)
			continue
		}
		if len(d.stages) > 0 { // global ARGs before the first FROM belong to no stage
			d.stages[len(d.stages)-1].instr = append(d.stages[len(d.stages)-1].instr, n)
		}
	}
	if len(d.stages) == 0 {
		return nil, ErrNoFinalStage
	}
	return d, nil
}

// final is the attacker's stage: the one BuildKit builds by default.
func (d *dockerfile) final() *stage { return d.stages[len(d.stages)-1] }

// chain returns the stages the final image is built from, root first,
// following FROM <stage name> the way BuildKit and corpus.GroundTruth do.
func (d *dockerfile) chain() []*stage {
	cur := d.final()
	out := []*stage{cur}
	for len(out) <= len(d.stages) {
		var parent *stage
		for _, st := range d.stages {
			if st != cur && st.name != "" && st.name == cur.base {
				parent = st
			}
		}
		if parent == nil {
			break
		}
		out = append([]*stage{parent}, out...)
		cur = parent
	}
	return out
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
	f := d.final()
	pts := []point{{after: f.from.EndLine, index: 0}}
	root := true
	for i, n := range f.instr {
		if strings.EqualFold(n.Value, "user") && n.Next != nil {
			root = isRootUser(n.Next.Value)
		}
		if root {
			pts = append(pts, point{after: n.EndLine, index: i + 1})
		}
	}
	return pts
}

// isRootUser reports whether a USER argument ("root", "0", "root:root",
// "0:0", "root:wheel") selects uid 0.
func isRootUser(u string) bool {
	name, _, _ := strings.Cut(u, ":")
	return name == "root" || name == "0"
}

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
	f := d.final()
	after := f.from.StartLine - 1
	for _, n := range d.nodes {
		if n == f.from {
			break
		}
		after = n.EndLine
	}
	return after
}

// stageNameFree reports whether no stage is called name.
func (d *dockerfile) stageNameFree(name string) bool {
	for _, st := range d.stages {
		if st.name == strings.ToLower(name) {
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
	visit := func(nodes []*parser.Node) {
		for _, n := range nodes {
			if !strings.EqualFold(n.Value, "workdir") || n.Next == nil {
				continue
			}
			if v := n.Next.Value; path.IsAbs(v) || strings.HasPrefix(v, "$") {
				wd = v
			} else {
				wd = path.Join(wd, v)
			}
		}
	}
	ch := d.chain()
	for _, st := range ch[:len(ch)-1] {
		visit(st.instr)
	}
	visit(d.final().instr[:p.index])
	return wd
}

// insertion is text to splice in after a number of original lines.
type insertion struct {
	after int
	lines []string // instructions, one per line, without terminators
}

// splice returns the original text with ins inserted, each block preceded
// by a blank line. Blocks at the same position keep their order.
func (d *dockerfile) splice(ins ...insertion) []byte {
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].after < ins[j].after })
	var b bytes.Buffer
	k := 0
	emit := func(line int) {
		for ; k < len(ins) && ins[k].after == line; k++ {
			if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
				b.WriteByte('\n') // the original ended without a newline
			}
			b.WriteByte('\n')
			for _, l := range ins[k].lines {
				b.WriteString(l)
				b.WriteByte('\n')
			}
		}
	}
	emit(0)
	for i, l := range d.lines {
		b.WriteString(l)
		emit(i + 1)
	}
	return b.Bytes()
}

// insertAtRandomPoint is the shape of most Dockerfile mutations: parse,
// draw a point, splice lines there. The point is drawn before build is
// called, so build sees it (variable-workdir needs it).
func insertAtRandomPoint(src []byte, rng *rand.Rand, build func(d *dockerfile, p point) ([]string, error)) ([]byte, error) {
	d, err := parseDockerfile(src)
	if err != nil {
		return nil, err
	}
	p := d.randomPoint(rng)
	lines, err := build(d, p)
	if err != nil {
		return nil, err
	}
	return d.splice(insertion{after: p.after, lines: lines}), nil
}
