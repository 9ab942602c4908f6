package dockerfile

// The model: what the Dockerfile's final image will hold as far as it is
// known before the build. Every instruction of the stages the final image
// is built from (its FROM chain) becomes one history entry, as BuildKit
// writes them; RUN, ADD and COPY also a layer: empty for RUN (what it
// does is only known by running it; its text is analysed as history) and
// holding the build-context files for ADD and COPY (or a stage's files for
// COPY --from). The final stage's ENTRYPOINT, CMD, HEALTHCHECK, ONBUILD and
// ENV make the config.
//
// Multi-stage builds: a stage the final image copies from (COPY --from, or
// a stage that one copies from) is reached: its instructions are history
// entries without layers, before the chain's, so what its RUN steps fetch
// and build counts, and the files it copied from the context reach the
// image at the COPY --from destination. A stage nothing reaches is
// discarded by the build: its evidence is reported with weight 0 (it never
// scores) under discardedNote.

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	dfmodel "github.com/strata-sec/strata/internal/dockerfile"
)

// step is one history entry of the model.
type step struct {
	node      *parser.Node
	createdBy string
	layer     bool    // RUN, ADD, COPY of a chain stage
	files     []vfile // the layer's files
}

// vfile is a file the model puts in a layer.
type vfile struct {
	dest  string // image path, no leading "/"
	shown string // how findings name it: the context file, or dest
	mode  fs.FileMode
	data  []byte
}

// stageState is a stage after its instructions: env, workdir, config and
// the files it copied (for COPY --from).
type stageState struct {
	st      *dfmodel.Stage
	index   int
	env     []string
	args    map[string]string
	workdir string
	shell   []string
	cfg     v1.Config
	files   map[string]vfile
	steps   []step
	from    []string // stage names or indexes COPY --from / RUN --mount from names
}

// model is the Dockerfile's image as known before the build.
type model struct {
	file      *dfmodel.File
	steps     []step // reached stages' history, then the chain's
	cfg       v1.Config
	discarded []step // history of stages nothing reaches
	// issues are what could not be read (a missing source, a limit),
	// with the step they belong to.
	issues []issue
	// stages counts stages; reached those the final image depends on.
	stages, reached  int
	ctxFiles         int
	ctxBytes         int64
	discardedStageNm []string
}

type issue struct {
	node   *parser.Node
	path   string
	detail string
}

// reader reads build-context files within bounds.
type reader struct {
	ctx      fs.FS
	ctxShown string
	maxFile  int64
	maxTotal int64
	m        *model
}

// build models f with the context read by r.
func build(f *dfmodel.File, r *reader) (*model, error) {
	m := &model{file: f, stages: len(f.Stages)}
	r.m = m
	meta := map[string]string{}
	var metaSteps []step
	for _, n := range f.Nodes {
		if dfmodel.Is(n, "from") {
			break
		}
		if dfmodel.Is(n, "arg") {
			c, err := instructions.ParseInstruction(n)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n.StartLine, err)
			}
			if a, ok := c.(*instructions.ArgCommand); ok {
				for _, kv := range a.Args {
					if kv.Value != nil {
						meta[kv.Key] = *kv.Value
					}
				}
			}
			metaSteps = append(metaSteps, step{node: n, createdBy: n.Original})
		}
	}
	states := make([]*stageState, len(f.Stages))
	for i, st := range f.Stages {
		s := &stageState{st: st, index: i, args: map[string]string{}, files: map[string]vfile{}, shell: []string{"/bin/sh", "-c"}, workdir: "/"}
		if p := stageByName(f, states[:i], st.Base); p != nil {
			s.env = slices.Clone(p.env)
			s.workdir, s.shell, s.cfg = p.workdir, slices.Clone(p.shell), cloneConfig(p.cfg)
			for k, v := range p.files {
				s.files[k] = v
			}
		}
		for _, n := range st.Instructions {
			if err := s.apply(n, meta, states[:i], r); err != nil {
				return nil, err
			}
		}
		states[i] = s
	}
	chain := f.Chain()
	inChain := map[*dfmodel.Stage]bool{}
	for _, st := range chain {
		inChain[st] = true
	}
	reached := map[int]bool{}
	var reach func(s *stageState)
	reach = func(s *stageState) {
		if reached[s.index] {
			return
		}
		reached[s.index] = true
		if p := stageByName(f, states[:s.index], s.st.Base); p != nil {
			reach(p)
		}
		for _, name := range s.from {
			if p := stageByName(f, states[:s.index], name); p != nil {
				reach(p)
			}
		}
	}
	for _, st := range chain {
		reach(states[slices.Index(f.Stages, st)])
	}
	m.steps = append(m.steps, metaSteps...)
	for _, s := range states {
		switch {
		case inChain[s.st]:
		case reached[s.index]:
			for _, sp := range s.steps {
				m.steps = append(m.steps, step{node: sp.node, createdBy: sp.createdBy})
			}
		default:
			m.discardedStageNm = append(m.discardedStageNm, stageLabel(s))
			for _, sp := range s.steps {
				m.discarded = append(m.discarded, step{node: sp.node, createdBy: sp.createdBy})
			}
		}
	}
	for _, st := range chain {
		m.steps = append(m.steps, states[slices.Index(f.Stages, st)].steps...)
	}
	m.reached = len(reached)
	m.cfg = states[len(states)-1].cfg
	m.cfg.WorkingDir = states[len(states)-1].workdir
	return m, nil
}

func stageLabel(s *stageState) string {
	if s.st.Name != "" {
		return s.st.Name
	}
	return strconv.Itoa(s.index)
}

// stageByName finds the stage a FROM or --from names among the earlier
// stages: by AS name (the last one), or by index.
func stageByName(f *dfmodel.File, earlier []*stageState, name string) *stageState {
	name = strings.ToLower(name)
	for i := len(earlier) - 1; i >= 0; i-- {
		if earlier[i] != nil && earlier[i].st.Name != "" && earlier[i].st.Name == name {
			return earlier[i]
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(earlier) {
		return earlier[i]
	}
	return nil
}

func cloneConfig(c v1.Config) v1.Config {
	c.Entrypoint, c.Cmd, c.Env, c.OnBuild = slices.Clone(c.Entrypoint), slices.Clone(c.Cmd), slices.Clone(c.Env), slices.Clone(c.OnBuild)
	return c
}

// getenv is BuildKit's expansion environment: ARGs, then ENV over them.
func (s *stageState) getenv() shell.EnvGetter {
	var kv []string
	for k, v := range s.args {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return shell.EnvsFromSlice(append(kv, s.env...))
}

func (s *stageState) expand(word string) string {
	out, _, err := shell.NewLex('\\').ProcessWord(word, s.getenv())
	if err != nil {
		return word
	}
	return out
}

func (s *stageState) setEnv(k, v string) {
	s.env = slices.DeleteFunc(s.env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
	s.env = append(s.env, k+"="+v)
	s.cfg.Env = slices.Clone(s.env)
}

// apply runs one instruction on the stage's state.
func (s *stageState) apply(n *parser.Node, meta map[string]string, earlier []*stageState, r *reader) error {
	c, err := instructions.ParseInstruction(n)
	if err != nil {
		return fmt.Errorf("line %d: %w: fix the instruction (BuildKit would refuse it too)", n.StartLine, err)
	}
	sp := step{node: n, createdBy: n.Original + " # buildkit"}
	switch c := c.(type) {
	case *instructions.RunCommand:
		sp.layer = true
		sp.createdBy = "RUN " + s.runText(c.ShellDependantCmdLine) + " # buildkit"
		s.from = append(s.from, mountFroms(c)...)
	case *instructions.CmdCommand:
		s.cfg.Cmd = s.argv(c.ShellDependantCmdLine)
		sp.createdBy = "CMD " + dfmodel.JSONArray(s.cfg.Cmd) + " # buildkit"
	case *instructions.EntrypointCommand:
		s.cfg.Entrypoint = s.argv(c.ShellDependantCmdLine)
		sp.createdBy = "ENTRYPOINT " + dfmodel.JSONArray(s.cfg.Entrypoint) + " # buildkit"
	case *instructions.HealthCheckCommand:
		if c.Health != nil {
			s.cfg.Healthcheck = &v1.HealthConfig{Test: slices.Clone(c.Health.Test)}
		}
	case *instructions.OnbuildCommand:
		s.cfg.OnBuild = append(s.cfg.OnBuild, c.Expression)
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			s.setEnv(kv.Key, s.expand(kv.Value))
		}
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			v, ok := meta[kv.Key]
			if kv.Value != nil {
				v, ok = s.expand(*kv.Value), true
			}
			if ok {
				s.args[kv.Key] = v
			}
		}
	case *instructions.WorkdirCommand:
		p := s.expand(c.Path)
		if !path.IsAbs(p) {
			p = path.Join(s.workdir, p)
		}
		s.workdir = path.Clean(p)
	case *instructions.ShellCommand:
		s.shell = slices.Clone(c.Shell)
	case *instructions.CopyCommand:
		sp.layer = true
		if c.From != "" {
			from := s.expand(c.From)
			s.from = append(s.from, from)
			src := stageByName(nil, earlier, from)
			sp.files = s.copyFromStage(src, c.SourcesAndDest, c.Chmod)
		} else {
			sp.files = s.copyFromContext(n, c.SourcesAndDest, c.Chmod, r)
		}
	case *instructions.AddCommand:
		sp.layer = true
		sp.files = s.copyFromContext(n, c.SourcesAndDest, c.Chmod, r)
	}
	for _, f := range sp.files {
		s.files[f.dest] = f
	}
	s.steps = append(s.steps, sp)
	return nil
}

// mountFroms are the stages RUN --mount=...,from=NAME reads.
func mountFroms(c *instructions.RunCommand) []string {
	var out []string
	for _, m := range instructions.GetMounts(c) {
		if m.From != "" {
			out = append(out, m.From)
		}
	}
	return out
}

// argv is the command an ENTRYPOINT or CMD runs: exec form as written,
// shell form wrapped in the stage's SHELL.
func (s *stageState) argv(c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return slices.Clone(c.CmdLine)
	}
	return append(slices.Clone(s.shell), strings.Join(c.CmdLine, " "))
}

// runText is a RUN's command as BuildKit's history shows it: the shell
// script (heredoc bodies included) or the exec-form array.
func (s *stageState) runText(c instructions.ShellDependantCmdLine) string {
	if !c.PrependShell {
		return dfmodel.JSONArray(c.CmdLine)
	}
	script := strings.Join(c.CmdLine, " ")
	if t := strings.TrimSpace(script); len(c.Files) == 1 && (t == "<<"+c.Files[0].Name || t == "<<-"+c.Files[0].Name) {
		script = c.Files[0].Data
	} else {
		for _, hf := range c.Files {
			script += "\n" + hf.Data + hf.Name
		}
	}
	return strings.Join(s.shell, " ") + " " + script
}

// dest is where a source lands: into the directory dest (a trailing
// slash, several sources, or a directory source) or as dest itself.
func (s *stageState) dest(d string) string {
	if path.IsAbs(d) {
		return d
	}
	dir := strings.HasSuffix(d, "/") || d == "."
	d = path.Join(s.workdir, d)
	if dir {
		d += "/"
	}
	return d
}

func joinDest(dest, rel string, into bool) string {
	if into {
		return strings.TrimPrefix(path.Join(dest, rel), "/")
	}
	return strings.TrimPrefix(path.Clean(dest), "/")
}

func chmodMode(chmod string, mode fs.FileMode) fs.FileMode {
	if chmod == "" {
		return mode
	}
	if v, err := strconv.ParseUint(chmod, 8, 32); err == nil {
		return fs.FileMode(v) & fs.ModePerm
	}
	return mode
}

// copyFromContext reads ADD/COPY sources from the build context. URLs
// (ADD https://..., git sources) fetch at build time: their history text
// is analysed, their content is not known before the build.
func (s *stageState) copyFromContext(n *parser.Node, sd instructions.SourcesAndDest, chmod string, r *reader) []vfile {
	dest := s.dest(s.expand(sd.DestPath))
	into := strings.HasSuffix(dest, "/") || len(sd.SourcePaths)+len(sd.SourceContents) > 1
	var out []vfile
	for _, sc := range sd.SourceContents { // COPY <<EOF heredocs
		out = append(out, vfile{dest: joinDest(dest, sc.Path, into), shown: "", mode: chmodMode(chmod, 0o644), data: []byte(sc.Data)})
	}
	for _, src := range sd.SourcePaths {
		src = s.expand(src)
		if isRemote(src) {
			continue
		}
		out = append(out, r.read(n, src, dest, into, chmod)...)
	}
	return out
}

func isRemote(src string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	return false
}

// copyFromStage copies the files an earlier stage got from the context.
// Files its RUN steps made are unknown before the build.
func (s *stageState) copyFromStage(src *stageState, sd instructions.SourcesAndDest, chmod string) []vfile {
	if src == nil {
		return nil // an external image: unknown content
	}
	dest := s.dest(s.expand(sd.DestPath))
	into := strings.HasSuffix(dest, "/") || len(sd.SourcePaths) > 1
	var out []vfile
	keys := make([]string, 0, len(src.files))
	for k := range src.files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, p := range sd.SourcePaths {
		p = s.expand(p)
		if !path.IsAbs(p) {
			p = path.Join(src.workdir, p)
		}
		p = strings.TrimPrefix(path.Clean(p), "/")
		for _, k := range keys {
			f := src.files[k]
			switch {
			case k == p:
				f.dest = joinDest(dest, path.Base(k), into)
			case p == "" || strings.HasPrefix(k, p+"/"):
				f.dest = joinDest(dest, strings.TrimPrefix(k, p+"/"), true)
			default:
				if ok, _ := path.Match(p, k); !ok {
					continue
				}
				f.dest = joinDest(dest, path.Base(k), true)
			}
			f.mode = chmodMode(chmod, f.mode)
			out = append(out, f)
		}
	}
	return out
}

// read reads one source (file, directory or glob) from the context.
func (r *reader) read(n *parser.Node, src, dest string, into bool, chmod string) []vfile {
	if r.ctx == nil {
		r.m.issues = append(r.m.issues, issue{n, src, "no build context given: " + src + " was not read (pass the context directory)"})
		return nil
	}
	rel := strings.TrimPrefix(path.Clean("/"+src), "/")
	if rel == "" {
		rel = "."
	}
	matches := []string{rel}
	if strings.ContainsAny(rel, "*?[") {
		var err error
		if matches, err = fs.Glob(r.ctx, rel); err != nil || len(matches) == 0 {
			r.m.issues = append(r.m.issues, issue{n, r.shown(src), "no file in the build context matches " + src + ": add it or fix the pattern"})
			return nil
		}
		into = true
	}
	var out []vfile
	for _, mt := range matches {
		fi, err := fs.Stat(r.ctx, mt)
		if err != nil {
			r.m.issues = append(r.m.issues, issue{n, r.shown(mt), fmt.Sprintf("read %s: %v (is it in the build context?)", r.shown(mt), err)})
			continue
		}
		if !fi.IsDir() {
			if f, ok := r.file(n, mt, joinDest(dest, path.Base(mt), into), fi, chmod); ok {
				out = append(out, f)
			}
			continue
		}
		err = fs.WalkDir(r.ctx, mt, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				r.m.issues = append(r.m.issues, issue{n, p, fmt.Sprintf("read %s: %v", r.shown(p), err)})
				return nil
			}
			if d.IsDir() {
				return nil
			}
			fi, err := fs.Stat(r.ctx, p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
			relp := strings.TrimPrefix(strings.TrimPrefix(p, mt), "/")
			if mt == "." {
				relp = p
			}
			if f, ok := r.file(n, p, joinDest(dest, relp, true), fi, chmod); ok {
				out = append(out, f)
			}
			return nil
		})
		if err != nil {
			r.m.issues = append(r.m.issues, issue{n, src, err.Error()})
		}
	}
	return out
}

func (r *reader) shown(p string) string { return path.Join(r.ctxShown, p) }

// file reads one regular context file, within the per-file and total
// bounds; what a bound cuts is an issue (not scanned).
func (r *reader) file(n *parser.Node, p, dest string, fi fs.FileInfo, chmod string) (vfile, bool) {
	if !fi.Mode().IsRegular() {
		return vfile{}, false
	}
	if fi.Size() > r.maxFile || r.m.ctxBytes+fi.Size() > r.maxTotal {
		r.m.issues = append(r.m.issues, issue{n, r.shown(p), fmt.Sprintf("limit: %s (%d bytes) is over the context bounds (%d bytes per file, %d in all): raise them with WithMaxFileBytes/WithMaxContextBytes", r.shown(p), fi.Size(), r.maxFile, r.maxTotal)})
		return vfile{}, false
	}
	fh, err := r.ctx.Open(p)
	if err != nil {
		r.m.issues = append(r.m.issues, issue{n, r.shown(p), fmt.Sprintf("read %s: %v", r.shown(p), err)})
		return vfile{}, false
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, r.maxFile+1))
	if err != nil {
		r.m.issues = append(r.m.issues, issue{n, r.shown(p), fmt.Sprintf("read %s: %v", r.shown(p), err)})
		return vfile{}, false
	}
	r.m.ctxFiles++
	r.m.ctxBytes += int64(len(data))
	return vfile{dest: dest, shown: r.shown(p), mode: chmodMode(chmod, fi.Mode().Perm()), data: data}, true
}
