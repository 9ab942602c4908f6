package scanreport

import (
	"context"
	"fmt"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/layers"
)

// Schema versions the JSON output; bump it with any incompatible change and
// document the schema in README.md ("Scan an image"). v2 added the decision
// "invalid", layers[].issues and config_issues.
const Schema = "strata.scan/v2"

// Report is the JSON document (schema Schema).
type Report struct {
	Schema   string       `json:"schema"`
	Detector DetectorInfo `json:"detector"`
	Targets  []Target     `json:"targets"`
}

// DetectorInfo names the detector that produced the verdicts.
type DetectorInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Target is one scanned image (one platform of an index).
type Target struct {
	Name           string    `json:"name"`
	Platform       string    `json:"platform"`
	ManifestDigest string    `json:"manifest_digest"`
	Decision       string    `json:"decision"`
	Score          float64   `json:"score"`
	Threshold      float64   `json:"threshold"`
	BlamedLayers   []int     `json:"blamed_layers"`
	Layers         []Layer   `json:"layers"`
	ConfigFindings []Finding `json:"config_findings"`
	// ConfigIssues are the not-scanned reasons not tied to a layer
	// (history limits and mismatches).
	ConfigIssues []Issue `json:"config_issues"`
	// Dockerfile and Context are set for a pre-build scan (strata scan
	// --dockerfile): the Dockerfile and build context as named on the
	// command line (relative to the working directory when they are
	// inside it). Such a target has no layers; every finding is in
	// ConfigFindings with the Dockerfile line of its instruction.
	Dockerfile string `json:"dockerfile,omitempty"`
	Context    string `json:"context,omitempty"`
}

// Label names the target for people: its name and platform.
func (t Target) Label() string {
	if t.Platform == "" {
		return t.Name
	}
	return t.Name + " (" + t.Platform + ")"
}

// Layer is one layer of a target with the findings attributed to it.
type Layer struct {
	Index     int       `json:"index"`
	DiffID    string    `json:"diff_id"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	CreatedBy string    `json:"created_by"`
	Blamed    bool      `json:"blamed"`
	Findings  []Finding `json:"findings"`
	// Issues say why some of the layer was not scanned or why it failed
	// an integrity check, one per not-scanned finding.
	Issues []Issue `json:"issues"`
}

// Finding is one piece of evidence (or one not-scanned mark).
type Finding struct {
	Rule     string  `json:"rule"`
	Category string  `json:"category"`
	Weight   float64 `json:"weight"`
	Path     string  `json:"path,omitempty"`
	Evidence string  `json:"evidence"`
	// Hidden: the file was deleted by layer RemovedBy.
	Hidden    bool `json:"hidden,omitempty"`
	RemovedBy *int `json:"removed_by,omitempty"`
	// Integrity: a not-scanned finding whose reason is an integrity error.
	Integrity bool `json:"integrity,omitempty"`
	// Line and Column place a pre-build finding in the Dockerfile (the
	// instruction; for a build-context file, its ADD or COPY), and
	// Instruction is that instruction's text.
	Line        int    `json:"line,omitempty"`
	Column      int    `json:"column,omitempty"`
	Instruction string `json:"instruction,omitempty"`
}

// Scan scans every target with det, in order.
func Scan(ctx context.Context, det detectors.Detector, targets []imageref.Target) (Report, error) {
	rep := Report{Schema: Schema, Detector: DetectorInfo{Name: det.Name(), Version: det.Version()}, Targets: []Target{}}
	for _, t := range targets {
		st, err := ScanTarget(ctx, det, t)
		if err != nil {
			return Report{}, err
		}
		rep.Targets = append(rep.Targets, st)
	}
	return rep, nil
}

// ScanTarget scans one target and lays its verdict out per layer.
func ScanTarget(ctx context.Context, det detectors.Detector, t imageref.Target) (Target, error) {
	st := Target{Name: t.Name, Platform: t.Platform}
	fail := func(what string, err error) (Target, error) {
		return Target{}, fmt.Errorf("%s: %s: %w", st.Label(), what, err)
	}
	d, err := t.Image.Digest()
	if err != nil {
		return fail("manifest digest", err)
	}
	m, err := t.Image.Manifest()
	if err != nil {
		return fail("read manifest", err)
	}
	cf, err := t.Image.ConfigFile()
	if err != nil {
		return fail("read config", err)
	}
	v, err := det.Scan(ctx, t.Image)
	if err != nil {
		return fail("scan", err)
	}
	return FromVerdict(t.Name, t.Platform, d.String(), m, cf, v), nil
}

// FromVerdict lays a verdict out per layer of the image whose manifest and
// config are m and cf, with the per-layer issues; the decision is the
// detector's (detectors.Decide).
func FromVerdict(name, platform, manifestDigest string, m *v1.Manifest, cf *v1.ConfigFile, v detectors.Verdict) Target {
	st := Target{Name: name, Platform: platform, ManifestDigest: manifestDigest, BlamedLayers: []int{},
		Layers: []Layer{}, ConfigFindings: []Finding{}, ConfigIssues: []Issue{}}
	al := layers.Align(cf.History, len(m.Layers))
	for i, l := range m.Layers {
		sl := Layer{Index: i, Digest: l.Digest.String(), Size: l.Size, Findings: []Finding{}, Issues: []Issue{}}
		if i < len(cf.RootFS.DiffIDs) {
			sl.DiffID = cf.RootFS.DiffIDs[i].String()
		}
		sl.CreatedBy = al.CreatedBy(i)
		st.Layers = append(st.Layers, sl)
	}
	st.Score, st.Threshold = v.Score, v.Threshold
	st.BlamedLayers = append(st.BlamedLayers, v.BlamedLayers...)
	for _, b := range v.BlamedLayers {
		if b >= 0 && b < len(st.Layers) {
			st.Layers[b].Blamed = true
		}
	}
	for _, f := range v.Findings {
		sf := Finding{Rule: f.Rule, Category: string(f.Category), Weight: f.Weight, Path: f.Path, Evidence: f.Evidence, Hidden: f.Hidden, Integrity: f.Integrity}
		if f.Hidden {
			rb := f.RemovedBy
			sf.RemovedBy = &rb
		}
		if f.Layer >= 0 && f.Layer < len(st.Layers) {
			st.Layers[f.Layer].Findings = append(st.Layers[f.Layer].Findings, sf)
		} else {
			st.ConfigFindings = append(st.ConfigFindings, sf)
		}
	}
	for i := range st.Layers {
		sortFindings(st.Layers[i].Findings)
		st.Layers[i].Issues = issuesOf(st.Layers[i].Findings)
	}
	sortFindings(st.ConfigFindings)
	st.ConfigIssues = issuesOf(st.ConfigFindings)
	st.Decision = string(v.Decision)
	return st
}

// FromDockerfileVerdict lays out a pre-build verdict on the Dockerfile
// named dockerfile with build context dir: every finding is a config
// finding, ordered by line (then as sortFindings).
func FromDockerfileVerdict(dockerfile, dir string, v detectors.Verdict) Target {
	st := Target{Name: dockerfile, Dockerfile: dockerfile, Context: dir, BlamedLayers: []int{},
		Layers: []Layer{}, ConfigFindings: []Finding{}, ConfigIssues: []Issue{}}
	st.Score, st.Threshold, st.Decision = v.Score, v.Threshold, string(v.Decision)
	for _, f := range v.Findings {
		st.ConfigFindings = append(st.ConfigFindings, Finding{Rule: f.Rule, Category: string(f.Category), Weight: f.Weight,
			Path: f.Path, Evidence: f.Evidence, Integrity: f.Integrity, Line: f.Line, Column: f.Column, Instruction: f.CreatedBy})
	}
	sortFindings(st.ConfigFindings)
	sort.SliceStable(st.ConfigFindings, func(i, j int) bool { return st.ConfigFindings[i].Line < st.ConfigFindings[j].Line })
	st.ConfigIssues = issuesOf(st.ConfigFindings)
	return st
}

// sortFindings orders findings strongest first, then by rule, path and
// evidence, so output does not depend on detector internals.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Weight != b.Weight {
			return a.Weight > b.Weight
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Evidence < b.Evidence
	})
}
