package dockerfile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
	dfmodel "github.com/strata-sec/strata/internal/dockerfile"
)

// Version identifies the detector in records: its own version, then as
// semver build metadata the hierarchical detector's Version and file
// analysis version, whose rule table and analysis it applies
// ("0.2.0+h0.6.0.f10"). A change of either changes Version, so resumed
// experiments rescan the dockerfile rows instead of keeping verdicts of an
// older rule table under an unchanged label.
var Version = ModelVersion + "+h" + hierarchical.Version + ".f" + strconv.Itoa(hierarchical.FileAnalysisVersion)

const (
	// Name identifies the detector in records.
	Name = "dockerfile"
	// ModelVersion versions what this package adds to the hierarchical
	// analysis: the model of the image, placing and merging findings.
	// 0.2.0: one finding per instruction, rule and evidence; positions
	// at the evidence's physical line and column.
	ModelVersion = "0.2.0"
	// Description is the one line `strata detectors` shows.
	Description = "pre-build analysis of a Dockerfile and its build context with the hierarchical rule table"

	// DefaultMaxFileBytes and DefaultMaxContextBytes bound what is read
	// from the build context: per file and in all.
	DefaultMaxFileBytes    int64 = 256 << 20
	DefaultMaxContextBytes int64 = 1 << 30

	// discardedNote prefixes the evidence of a stage the final image does
	// not depend on; such findings have weight 0.
	discardedNote = "discarded stage (not scored): "
)

// Detector is the pre-build detector. It holds only options, so one value
// can scan many Dockerfiles concurrently.
type Detector struct {
	maxFile, maxTotal int64
	hier              *hierarchical.Detector
}

// Option configures a Detector.
type Option func(*Detector)

// WithMaxFileBytes bounds the bytes read per build-context file; a larger
// file is a not-scanned finding.
func WithMaxFileBytes(n int64) Option { return func(d *Detector) { d.maxFile = n } }

// WithMaxContextBytes bounds the bytes read from the build context in all.
func WithMaxContextBytes(n int64) Option { return func(d *Detector) { d.maxTotal = n } }

// New returns a pre-build detector.
func New(opts ...Option) *Detector {
	d := &Detector{maxFile: DefaultMaxFileBytes, maxTotal: DefaultMaxContextBytes}
	for _, o := range opts {
		o(d)
	}
	// No layer cache: the model's layers are made for one scan. No known
	// samples: pre-build analysis learns nothing from a first sighting.
	d.hier = hierarchical.New(hierarchical.WithLayerCache(nil))
	return d
}

func (d *Detector) Name() string    { return Name }
func (d *Detector) Version() string { return Version }

// Input is what the detector reads: the Dockerfile's bytes and the build
// context, with the names findings give them.
type Input struct {
	Dockerfile []byte
	// Path names the Dockerfile in findings ("Dockerfile", "app/Dockerfile").
	Path string
	// Context is the build context (nil: none; ADD/COPY sources are then
	// not-scanned findings). ContextPath names it in findings: a context
	// file is path.Join(ContextPath, rel).
	Context     fs.FS
	ContextPath string
}

// ScanPath scans the Dockerfile at file with the build context dir ("":
// the Dockerfile's directory). Findings name files as given, relative to
// the working directory when the paths are.
func (d *Detector) ScanPath(ctx context.Context, file, dir string) (detectors.Verdict, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("read Dockerfile: %w", err)
	}
	if dir == "" {
		dir = filepath.Dir(file)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("open build context: %w (pass --context DIR)", err)
	}
	defer root.Close()
	return d.Scan(ctx, Input{Dockerfile: src, Path: filepath.ToSlash(file), Context: root.FS(), ContextPath: filepath.ToSlash(dir)})
}

// Scan models in's image and judges it with the hierarchical detector:
// the same rules, weights, caps and threshold; the decision follows
// detectors.Decide. BlamedLayers index the layers the Dockerfile's final
// chain adds (RUN, ADD, COPY in order; Info["dockerfile_layers"] counts
// them), above whatever base image it is built FROM.
func (d *Detector) Scan(ctx context.Context, in Input) (detectors.Verdict, error) {
	f, err := dfmodel.Parse(in.Dockerfile)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", in.Path, err)
	}
	r := &reader{ctx: in.Context, ctxShown: in.ContextPath, maxFile: d.maxFile, maxTotal: d.maxTotal}
	m, err := build(f, r)
	if err != nil {
		return detectors.Verdict{}, fmt.Errorf("%s: %w", in.Path, err)
	}
	v, lm, err := d.judge(ctx, m.steps, m.cfg)
	if err != nil {
		return detectors.Verdict{}, err
	}
	spans := map[*parser.Node]*span{}
	loc := locator{in: in, m: m, lm: lm, steps: m.steps, spans: spans}
	var out []detectors.Finding
	for _, fd := range v.Findings {
		out = append(out, loc.place(fd))
	}
	for _, is := range m.issues {
		out = append(out, detectors.Finding{
			Category: detectors.CategoryNotScanned, Rule: hierarchical.RuleNotScanned, Evidence: is.detail,
			Layer: detectors.NoLayer, Path: is.path, CreatedBy: is.node.Original,
			Line: is.node.StartLine, Column: column(f, is.node),
		})
	}
	if len(m.discarded) > 0 {
		dv, dlm, err := d.judge(ctx, m.discarded, v1.Config{})
		if err != nil {
			return detectors.Verdict{}, err
		}
		dl := locator{in: in, m: m, lm: dlm, steps: m.discarded, spans: spans}
		for _, fd := range dv.Findings {
			if fd.Category == detectors.CategoryNotScanned {
				continue
			}
			fd = dl.place(fd)
			fd.Weight, fd.Evidence = 0, discardedNote+fd.Evidence
			out = append(out, fd)
		}
	}
	slices.SortStableFunc(out, func(a, b detectors.Finding) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Rule+"\x00"+a.Path+"\x00"+a.Evidence, b.Rule+"\x00"+b.Path+"\x00"+b.Evidence)
	})
	out = dedupe(out)
	v.Findings = out
	// The model's image states some facts twice (an ENV instruction is a
	// history entry and the config's Env): scored once, as shown.
	v.Score, _ = hierarchical.Score(out)
	v.Decision = detectors.Decide(v.Score, v.Threshold, out)
	if v.Decision != detectors.Malicious {
		v.BlamedLayers = nil
	}
	if v.Info == nil {
		v.Info = map[string]string{}
	}
	delete(v.Info, "layers")
	delete(v.Info, "bytes_read")
	v.Info["dockerfile_layers"] = strconv.Itoa(len(lm))
	v.Info["stages"] = strconv.Itoa(m.stages)
	v.Info["stages_reached"] = strconv.Itoa(m.reached)
	v.Info["context_files"] = strconv.Itoa(m.ctxFiles)
	v.Info["context_bytes"] = strconv.FormatInt(m.ctxBytes, 10)
	if len(m.discardedStageNm) > 0 {
		v.Info["discarded_stages"] = strings.Join(m.discardedStageNm, ",")
	}
	v.Info["hierarchical_version"] = hierarchical.Version
	return v, nil
}

// dedupe keeps the first of findings that name the same instruction, rule,
// file and evidence: the model's image carries a config field both as the
// config and as the history entry of the instruction that set it, and both
// place at that instruction. fs is sorted by line, so duplicates are
// adjacent within a line.
func dedupe(fs []detectors.Finding) []detectors.Finding {
	type key struct {
		line, col            int
		rule, path, evidence string
	}
	seen := map[key]bool{}
	out := fs[:0]
	for _, f := range fs {
		k := key{f.Line, f.Column, f.Rule, f.Path, f.Evidence}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// judge builds the model's image from steps and cfg and scans it with the
// hierarchical detector; lm maps layer index to step index.
func (d *Detector) judge(ctx context.Context, steps []step, cfg v1.Config) (detectors.Verdict, []int, error) {
	img, err := mutate.Config(empty.Image, cfg)
	if err != nil {
		return detectors.Verdict{}, nil, err
	}
	var lm []int
	adds := make([]mutate.Addendum, 0, len(steps))
	for i, sp := range steps {
		add := mutate.Addendum{History: v1.History{CreatedBy: sp.createdBy, EmptyLayer: !sp.layer}}
		if sp.layer {
			l, err := layerOf(sp.files)
			if err != nil {
				return detectors.Verdict{}, nil, fmt.Errorf("model line %d: %w", sp.node.StartLine, err)
			}
			add.Layer = l
			lm = append(lm, i)
		}
		adds = append(adds, add)
	}
	if img, err = mutate.Append(img, adds...); err != nil {
		return detectors.Verdict{}, nil, err
	}
	v, err := d.hier.Scan(ctx, img)
	if err != nil {
		return detectors.Verdict{}, nil, fmt.Errorf("dockerfile: %w", err)
	}
	return v, lm, nil
}

// layerOf is the tar of a step's files (parents implicit), later files
// of the same path winning as in a build.
func layerOf(files []vfile) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]int{}
	var order []vfile
	for _, f := range files {
		if i, ok := seen[f.dest]; ok {
			order[i] = f
			continue
		}
		seen[f.dest] = len(order)
		order = append(order, f)
	}
	for _, f := range order {
		if f.dest == "" {
			continue
		}
		h := &tar.Header{Name: f.dest, Mode: int64(f.mode.Perm()), Size: int64(len(f.data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithCompressionLevel(gzip.BestSpeed))
}

// locator places a finding of the model's image in the Dockerfile.
type locator struct {
	in    Input
	m     *model
	lm    []int
	steps []step
	spans map[*parser.Node]*span
}

func (l locator) place(fd detectors.Finding) detectors.Finding {
	var n *parser.Node
	filePath := ""
	inText := true // the evidence is in the instruction's text
	switch {
	case strings.HasPrefix(fd.Path, "history:"):
		if i, err := strconv.Atoi(strings.TrimPrefix(fd.Path, "history:")); err == nil && i >= 0 && i < len(l.steps) {
			n = l.steps[i].node
		}
	case strings.HasPrefix(fd.Path, "config:"):
		n = l.configNode(strings.TrimPrefix(fd.Path, "config:"), fd.Evidence)
	case fd.Layer >= 0 && fd.Layer < len(l.lm):
		sp := l.steps[l.lm[fd.Layer]]
		n, inText = sp.node, false
		filePath = "/" + fd.Path
		for _, f := range sp.files {
			if f.dest == fd.Path && f.shown != "" {
				filePath = f.shown
			}
		}
	}
	fd.DiffID, fd.Layer = "", detectors.NoLayer
	fd.Path = l.in.Path
	if filePath != "" {
		fd.Path = filePath
	}
	if n != nil {
		fd.CreatedBy = n.Original
		fd.Line, fd.Column = n.StartLine, column(l.m.file, n)
		if line, col, ok := l.span(n).locate(n, fd.Evidence); ok && inText {
			fd.Line, fd.Column = line, col
		}
	}
	return fd
}

// span is n's span, made once per scan.
func (l locator) span(n *parser.Node) *span {
	sp, ok := l.spans[n]
	if !ok {
		sp = newSpan(l.m.file, n)
		l.spans[n] = sp
	}
	return sp
}

// configNode is the instruction that set a config field: the last one in
// the final image's history; for Env the last ENV or ARG whose text holds
// the evidence, else the last ENV.
func (l locator) configNode(field, evidence string) *parser.Node {
	instr := map[string]string{"Entrypoint": "entrypoint", "Cmd": "cmd", "Healthcheck": "healthcheck", "OnBuild": "onbuild", "Env": "env"}[field]
	var last, holds *parser.Node
	for _, sp := range l.steps {
		n := sp.node
		if dfmodel.Is(n, instr) {
			last = n
		}
		if field == "Env" && (dfmodel.Is(n, "env") || dfmodel.Is(n, "arg")) && evidence != "" && strings.Contains(l.m.file.Text(n), firstLine(evidence)) {
			holds = n
		}
	}
	if holds != nil {
		return holds
	}
	if last == nil && field == "Cmd" {
		return l.configNode("Entrypoint", evidence)
	}
	return last
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// column is the 1-based column of n's instruction keyword on its line.
func column(f *dfmodel.File, n *parser.Node) int {
	if n.StartLine < 1 || n.StartLine > len(f.Lines) {
		return 0
	}
	line := f.Lines[n.StartLine-1]
	return len(line) - len(strings.TrimLeft(line, " \t")) + 1
}
