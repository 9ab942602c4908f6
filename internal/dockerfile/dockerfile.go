package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ErrNoStage is returned by Parse for a Dockerfile without a FROM
// instruction.
var ErrNoStage = errors.New("no FROM instruction in the Dockerfile: add one before the first build step")

// ErrStageCycle is returned by Parse when the final stage's FROM chain
// loops (FROM a AS b ... FROM b AS a): BuildKit refuses such a file too.
var ErrStageCycle = errors.New("the Dockerfile's stages form a cycle: rename a stage so every FROM names an earlier one or an image")

// File is a parsed Dockerfile kept next to its original lines.
type File struct {
	// Lines are the original lines, each with its terminator (the last
	// may lack one). Line n of the parser's positions is Lines[n-1].
	Lines []string
	// Nodes are the top-level instructions in order, global ARGs included.
	Nodes []*parser.Node
	// Stages are the FROM stages in order; there is at least one.
	Stages []*Stage
	// Escape is the escape and line-continuation character: \ unless an
	// escape directive sets ` (backtick).
	Escape rune
}

// Stage is one FROM and the instructions up to the next FROM.
type Stage struct {
	From *parser.Node
	// Base is the lower-cased FROM argument: an image or a stage name.
	Base string
	// Name is the lower-cased AS name, "" if none.
	Name string
	// Instructions are the stage's instructions after its FROM.
	Instructions []*parser.Node
}

// Parse parses src with BuildKit's parser and groups its instructions into
// stages. ARGs before the first FROM belong to no stage: they are global
// and make no history entry.
func Parse(src []byte) (*File, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	f := &File{Nodes: res.AST.Children, Escape: res.EscapeToken}
	for rest := src; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			f.Lines = append(f.Lines, string(rest))
			break
		}
		f.Lines = append(f.Lines, string(rest[:i+1]))
		rest = rest[i+1:]
	}
	for _, n := range f.Nodes {
		if Is(n, "from") {
			st := &Stage{From: n}
			if n.Next != nil {
				st.Base = strings.ToLower(n.Next.Value)
				if a := n.Next.Next; a != nil && strings.EqualFold(a.Value, "as") && a.Next != nil {
					st.Name = strings.ToLower(a.Next.Value)
				}
			}
			f.Stages = append(f.Stages, st)
			continue
		}
		if len(f.Stages) > 0 {
			last := f.Stages[len(f.Stages)-1]
			last.Instructions = append(last.Instructions, n)
		}
	}
	if len(f.Stages) == 0 {
		return nil, ErrNoStage
	}
	if len(f.Chain()) > len(f.Stages) {
		return nil, ErrStageCycle
	}
	return f, nil
}

// Is reports whether n is the instruction instr (case-insensitive: "run").
func Is(n *parser.Node, instr string) bool { return strings.EqualFold(n.Value, instr) }

// Final is the stage BuildKit builds by default: the last one.
func (f *File) Final() *Stage { return f.Stages[len(f.Stages)-1] }

// Chain returns the stages the final image is built from, root first: the
// final stage, the stage its FROM names, and so on (when several stages
// share the name, the last one other than the current stage). BuildKit
// writes one history entry per instruction of these stages, in this
// order, after the external base image's entries.
func (f *File) Chain() []*Stage {
	cur := f.Final()
	out := []*Stage{cur}
	for len(out) <= len(f.Stages) {
		var parent *Stage
		for _, st := range f.Stages {
			if st != cur && st.Name != "" && st.Name == cur.Base {
				parent = st
			}
		}
		if parent == nil {
			break
		}
		out = append([]*Stage{parent}, out...)
		cur = parent
	}
	return out
}

// ChainInstructions are the instructions of Chain's stages in order, FROM
// lines left out: one per history entry of the final image above its
// external base.
func (f *File) ChainInstructions() []*parser.Node {
	var out []*parser.Node
	for _, st := range f.Chain() {
		out = append(out, st.Instructions...)
	}
	return out
}

// Text is n's original text, lines StartLine..EndLine (heredocs included).
func (f *File) Text(n *parser.Node) string {
	return strings.Join(f.Lines[n.StartLine-1:n.EndLine], "")
}
