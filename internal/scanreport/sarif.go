package scanreport

// SARIF 2.1.0 output for `strata scan --format sarif`, for GitHub code
// scanning and other SARIF consumers. The layout is documented in README.md
// ("Scan an image"); in short:
//
//   - one run; tool.driver lists every hierarchical rule (Rules() order);
//   - one result per finding, targets in scan order, layers bottom up, then
//     config findings, each list in the JSON output's order;
//   - artifactLocation.uri is a relative URI (code scanning rejects any
//     scheme but file:) naming image, layer and file:
//     oci/<image>/layers/<index>-<diffid12>/<path> for layer findings and
//     oci/<image>/config[/<field>|/history/<n>] for config findings;
//   - "not scanned" findings are ordinary results (SARIF forbids a level
//     other than "none" with kind "review", and code scanning would hide
//     level none): level warning for a limit, error for an integrity
//     problem, with properties issueKind and issueClass; each target with
//     such findings, or decision incomplete or invalid, also gets a
//     notification under invocations[0] listing the reasons per layer.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// sarifFingerprintKey names the partialFingerprints entry: the hex SHA-256
	// of rule, diffID ("config" for config findings), path and evidence. It
	// leaves out the image name and layer index, so the same evidence in a
	// rebuilt or renamed image is the same alert.
	sarifFingerprintKey = "strataFinding/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  sarifRunProps     `json:"properties"`
}

type sarifRunProps struct {
	Schema  string             `json:"strataSchema"`
	Targets []sarifTargetProps `json:"targets"`
}

// sarifTargetProps carries each target's verdict, which SARIF has no place for.
type sarifTargetProps struct {
	Name           string  `json:"name"`
	Platform       string  `json:"platform"`
	ManifestDigest string  `json:"manifestDigest"`
	Decision       string  `json:"decision"`
	Score          float64 `json:"score"`
	Threshold      float64 `json:"threshold"`
	BlamedLayers   []int   `json:"blamedLayers"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	FullName        string      `json:"fullName"`
	Version         string      `json:"version"`
	SemanticVersion string      `json:"semanticVersion"`
	Rules           []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Category string   `json:"category"`
	Weight   float64  `json:"weight"`
	Tags     []string `json:"tags"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	RelatedLocations    []sarifLocation   `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifLocation struct {
	ID               *int              `json:"id,omitempty"`
	PhysicalLocation sarifPhysical     `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLoc `json:"logicalLocations,omitempty"`
	Message          *sarifText        `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// sarifRegion is a pre-build finding's place in the Dockerfile.
type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogicalLoc struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifResultProps struct {
	Category string  `json:"category"`
	Weight   float64 `json:"weight"`
	Image    string  `json:"image"`
	Platform string  `json:"platform"`
	// Layer is the layer index, -1 for config findings.
	Layer      int    `json:"layer"`
	DiffID     string `json:"diffId,omitempty"`
	CreatedBy  string `json:"createdBy,omitempty"`
	Path       string `json:"path,omitempty"`
	Hidden     bool   `json:"hidden,omitempty"`
	RemovedBy  *int   `json:"removedBy,omitempty"`
	NotScanned bool   `json:"notScanned,omitempty"`
	// IssueKind and IssueClass (limit or integrity) say why the content
	// of a not-scanned result was not scanned.
	IssueKind      string `json:"issueKind,omitempty"`
	IssueClass     string `json:"issueClass,omitempty"`
	ManifestDigest string `json:"manifestDigest"`
}

// WriteSARIF renders rep as one SARIF 2.1.0 log.
func WriteSARIF(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(buildSARIF(rep, hierarchical.Rules()))
}

func buildSARIF(rep Report, rules []hierarchical.Rule) sarifLog {
	driver := sarifDriver{
		Name:            "strata",
		FullName:        "strata " + rep.Detector.Name + " detector " + rep.Detector.Version,
		Version:         rep.Detector.Version,
		SemanticVersion: rep.Detector.Version,
		Rules:           []sarifRule{},
	}
	ruleIndex := map[string]int{}
	addRule := func(r sarifRule) int {
		ruleIndex[r.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, r)
		return ruleIndex[r.ID]
	}
	for _, r := range rules {
		addRule(sarifRule{
			ID:                   r.ID,
			Name:                 sarifRuleName(r.ID),
			ShortDescription:     sarifText{Text: sentence(r.Rationale)},
			FullDescription:      sarifText{Text: sentence(r.Rationale) + " Source: " + sentence(r.Source)},
			Help:                 sarifText{Text: sarifRuleHelp(r)},
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(r.Weight)},
			Properties:           sarifRuleProps{Category: string(r.Category), Weight: r.Weight, Tags: []string{"security", string(r.Category)}},
		})
	}

	run := sarifRun{
		Tool:        sarifTool{Driver: driver},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
		Results:     []sarifResult{},
		Properties:  sarifRunProps{Schema: rep.Schema, Targets: []sarifTargetProps{}},
	}
	for _, t := range rep.Targets {
		run.Properties.Targets = append(run.Properties.Targets, sarifTargetProps{
			Name: t.Name, Platform: t.Platform, ManifestDigest: t.ManifestDigest,
			Decision: t.Decision, Score: t.Score, Threshold: t.Threshold, BlamedLayers: t.BlamedLayers,
		})
		var reasons []string
		integrity := false
		add := func(f Finding, l *Layer) {
			idx, ok := ruleIndex[f.Rule]
			if !ok { // a rule the table does not know: describe it from the finding
				idx = addRule(sarifRule{
					ID: f.Rule, Name: sarifRuleName(f.Rule),
					ShortDescription:     sarifText{Text: "Rule " + f.Rule + "."},
					FullDescription:      sarifText{Text: "Rule " + f.Rule + " (not in the detector's rule table)."},
					Help:                 sarifText{Text: "Rule " + f.Rule + " is not in the detector's rule table; see detectors/README.md."},
					DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(f.Weight)},
					Properties:           sarifRuleProps{Category: f.Category, Weight: f.Weight, Tags: []string{"security", f.Category}},
				})
			}
			if is, ok := IssueOf(f); ok {
				where := "config"
				if l != nil {
					where = "layer " + strconv.Itoa(l.Index)
				}
				reasons = append(reasons, where+": "+is.Kind+" ("+is.Class+")")
				integrity = integrity || is.Class == ClassIntegrity
			}
			if t.Dockerfile != "" {
				run.Results = append(run.Results, sarifDockerfileResult(t, f, idx))
				return
			}
			run.Results = append(run.Results, sarifFindingResult(t, l, f, idx))
		}
		for i := range t.Layers {
			for _, f := range t.Layers[i].Findings {
				add(f, &t.Layers[i])
			}
		}
		for _, f := range t.ConfigFindings {
			add(f, nil)
		}
		if len(reasons) > 0 || t.Decision == string(detectors.Incomplete) || t.Decision == string(detectors.Invalid) {
			level := "warning"
			if integrity || t.Decision == string(detectors.Invalid) {
				level = "error"
			}
			run.Invocations[0].ToolExecutionNotifications = append(run.Invocations[0].ToolExecutionNotifications, sarifNotification{
				Level: level,
				Message: sarifText{Text: fmt.Sprintf("%s: %d finding(s) mark content that was not scanned (decision %s): %s; see the results with properties.notScanned.",
					t.Label(), len(reasons), t.Decision, strings.Join(reasons, "; "))},
			})
		}
	}
	numberOccurrences(run.Results)
	run.Tool.Driver = driver
	return sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
}

func sarifFindingResult(t Target, l *Layer, f Finding, ruleIdx int) sarifResult {
	props := sarifResultProps{
		Category: f.Category, Weight: f.Weight, Image: t.Name, Platform: t.Platform, Layer: detectors.NoLayer,
		Path: f.Path, Hidden: f.Hidden, RemovedBy: f.RemovedBy, ManifestDigest: t.ManifestDigest,
	}
	level := sarifLevel(f.Weight)
	if is, ok := IssueOf(f); ok {
		props.NotScanned, props.IssueKind, props.IssueClass = true, is.Kind, is.Class
		if is.Class == ClassIntegrity {
			level = "error"
		}
	}
	image := t.Name + "@" + t.ManifestDigest
	var logical sarifLogicalLoc
	var where string
	if l != nil {
		props.Layer, props.DiffID, props.CreatedBy = l.Index, l.DiffID, l.CreatedBy
		logical = sarifLogicalLoc{Name: "layer " + strconv.Itoa(l.Index), FullyQualifiedName: image + "/layer/" + strconv.Itoa(l.Index), Kind: "module"}
		where = fmt.Sprintf("layer %d (%s)", l.Index, excerpt(displayCreatedBy(l.CreatedBy), 80))
	} else {
		logical = sarifLogicalLoc{Name: "config", FullyQualifiedName: image + "/config", Kind: "resource"}
		where = "the image config"
	}
	if f.Path != "" {
		where = f.Path + " in " + where
	}
	if f.Hidden && f.RemovedBy != nil {
		where += fmt.Sprintf(", deleted by layer %d", *f.RemovedBy)
	}
	label := f.Category + "/" + f.Rule
	if props.NotScanned {
		label = "not scanned (" + props.IssueKind + ", " + props.IssueClass + ")"
	}
	evidence := f.Evidence
	if is, ok := IssueOf(f); ok {
		evidence = is.Detail
	}
	msg := label + ": "
	if evidence != "" {
		msg += strings.Join(strings.Fields(evidence), " ") + " "
	}
	if t.Platform != "" {
		where += ", " + t.Platform
	}
	msg += "[" + where + "]."

	diff := "config"
	if l != nil {
		diff = l.DiffID
	}
	h := sha256.Sum256([]byte(f.Rule + "\x00" + diff + "\x00" + f.Path + "\x00" + f.Evidence))

	return sarifResult{
		RuleID:    f.Rule,
		RuleIndex: ruleIdx,
		Level:     level,
		Message:   sarifText{Text: msg},
		Locations: []sarifLocation{{
			PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifactLoc{URI: sarifURI(t.Name, l, f.Path)}},
			LogicalLocations: []sarifLogicalLoc{logical},
		}},
		PartialFingerprints: map[string]string{sarifFingerprintKey: hex.EncodeToString(h[:])},
		Properties:          props,
	}
}

// numberOccurrences makes the run's fingerprints unique: code scanning
// merges results with one fingerprint into one alert, so a result equal to
// an earlier one (the same instruction twice in a Dockerfile, one layer in
// two platforms' images) gets its occurrence number, "HASH:2", as GitHub's
// primaryLocationLineHash does.
func numberOccurrences(results []sarifResult) {
	seen := map[string]int{}
	for i := range results {
		fp := results[i].PartialFingerprints[sarifFingerprintKey]
		seen[fp]++
		if n := seen[fp]; n > 1 {
			results[i].PartialFingerprints[sarifFingerprintKey] = fp + ":" + strconv.Itoa(n)
		}
	}
}

// sarifSrcRoot is the uriBaseId of pre-build results: the directory the
// scan ran in, which code scanning takes for the repository root.
const sarifSrcRoot = "%SRCROOT%"

// sarifDockerfileResult is a pre-build finding: its location is the
// Dockerfile with a region at the instruction's line (and column), so code
// scanning annotates that line; evidence in a build-context file names the
// file as a related location.
func sarifDockerfileResult(t Target, f Finding, ruleIdx int) sarifResult {
	props := sarifResultProps{Category: f.Category, Weight: f.Weight, Image: t.Dockerfile, Layer: detectors.NoLayer,
		CreatedBy: f.Instruction, Path: f.Path}
	level := sarifLevel(f.Weight)
	evidence := f.Evidence
	if is, ok := IssueOf(f); ok {
		props.NotScanned, props.IssueKind, props.IssueClass = true, is.Kind, is.Class
		evidence = is.Detail
		if is.Class == ClassIntegrity {
			level = "error"
		}
	}
	label := f.Category + "/" + f.Rule
	if props.NotScanned {
		label = "not scanned (" + props.IssueKind + ", " + props.IssueClass + ")"
	}
	where := fmt.Sprintf("%s line %d", t.Dockerfile, f.Line)
	if f.Path != "" && f.Path != t.Dockerfile {
		where = f.Path + " via " + where
	}
	msg := label + ": "
	if evidence != "" {
		msg += strings.Join(strings.Fields(evidence), " ") + " "
	}
	msg += "[" + where + "]."
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifFileLoc(t.Dockerfile)}}
	if f.Line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Column}
	}
	res := sarifResult{
		RuleID: f.Rule, RuleIndex: ruleIdx, Level: level, Message: sarifText{Text: msg},
		Locations:  []sarifLocation{loc},
		Properties: props,
	}
	if f.Path != "" && f.Path != t.Dockerfile {
		id := 1
		res.RelatedLocations = []sarifLocation{{ID: &id, PhysicalLocation: sarifPhysical{ArtifactLocation: sarifFileLoc(f.Path)},
			Message: &sarifText{Text: "Build-context file the instruction copies into the image."}}}
	}
	// The instruction's text, not its line: an alert follows an
	// instruction that moves, and two instructions with the same evidence
	// are two alerts.
	h := sha256.Sum256([]byte(f.Rule + "\x00" + f.Path + "\x00" + f.Instruction + "\x00" + f.Evidence))
	res.PartialFingerprints = map[string]string{sarifFingerprintKey: hex.EncodeToString(h[:])}
	return res
}

// sarifFileLoc is the artifact location of a file named as on the
// command line: relative to %SRCROOT%, or an absolute file: URI.
func sarifFileLoc(p string) sarifArtifactLoc {
	p = filepath.ToSlash(p)
	if path.IsAbs(p) {
		return sarifArtifactLoc{URI: (&url.URL{Scheme: "file", Path: p}).String()}
	}
	var segs []string
	for _, seg := range strings.Split(path.Clean(p), "/") {
		if seg == ".." || seg == "." {
			segs = append(segs, seg)
			continue
		}
		segs = append(segs, url.PathEscape(seg))
	}
	return sarifArtifactLoc{URI: strings.Join(segs, "/"), URIBaseID: sarifSrcRoot}
}

// sarifRuleHelp is the rule's help text (code scanning requires one).
func sarifRuleHelp(r hierarchical.Rule) string {
	var b strings.Builder
	b.WriteString(sentence(r.Rationale) + " ")
	switch {
	case r.Category == detectors.CategoryNotScanned:
		b.WriteString("Not scored: it marks content that was not scanned, so the image cannot be called clean: a scan limit (decision incomplete) or an integrity problem such as a truncated layer, a digest mismatch or a path escape (decision invalid); the result's properties.issueKind and issueClass say which. ")
	case r.Weight >= hierarchical.StrongWeight:
		fmt.Fprintf(&b, "Strong evidence (weight %s, capped at %s per image): a miner on its own, though a verdict needs a second kind of evidence. ", num(r.Weight), num(r.Cap))
	default:
		fmt.Fprintf(&b, "Supporting evidence (weight %s, capped at %s per image). ", num(r.Weight), num(r.Cap))
	}
	if r.Generic {
		fmt.Fprintf(&b, "Generic rule: not mining-specific; generic rules together count at most %s. ", num(hierarchical.GenericCap))
	}
	fmt.Fprintf(&b, "An image is malicious when its capped score reaches %s. Source: %s See detectors/README.md (Scoring).", num(hierarchical.Threshold), sentence(r.Source))
	return b.String()
}

// sarifLevel maps a weight to a SARIF level: strong evidence (a miner on its
// own) is an error, anything weaker, and not-scanned content, a warning.
func sarifLevel(weight float64) string {
	if weight >= hierarchical.StrongWeight {
		return "error"
	}
	return "warning"
}

// sarifURI builds the relative artifact URI for a finding:
//
//	oci/<image>/layers/<index>-<diffid12>/<path>   file in a layer
//	oci/<image>/layers/<index>-<diffid12>          layer finding without a path
//	oci/<image>/config/<field>                     path "config:<field>"
//	oci/<image>/config/history/<n>                 path "history:<n>"
//	oci/<image>/config                             config finding without a path
//
// <image> is the scanned name with empty, "." and ".." segments dropped and
// each segment percent-encoded; file path segments are percent-encoded and
// "."/".." become %2E/%2E%2E, so no path climbs out of its layer.
func sarifURI(image string, l *Layer, path string) string {
	var b strings.Builder
	b.WriteString("oci/")
	img := uriSegments(image, true)
	if img == "" {
		img = "_"
	}
	b.WriteString(img)
	if field, ok := strings.CutPrefix(path, "config:"); ok {
		b.WriteString("/config/" + uriSegments(field, false))
	} else if n, ok := strings.CutPrefix(path, "history:"); ok {
		b.WriteString("/config/history/" + uriSegments(n, false))
	} else if l != nil {
		fmt.Fprintf(&b, "/layers/%d-%s", l.Index, shortDigest(l.DiffID))
		if p := uriSegments(path, false); p != "" {
			b.WriteString("/" + p)
		}
	} else {
		b.WriteString("/config")
		if p := uriSegments(path, false); p != "" {
			b.WriteString("/" + p)
		}
	}
	return strings.TrimSuffix(b.String(), "/")
}

// uriSegments percent-encodes each /-separated segment of s, dropping empty
// segments; dot segments are dropped (drop) or encoded.
func uriSegments(s string, drop bool) string {
	var out []string
	for _, seg := range strings.Split(s, "/") {
		switch seg {
		case "":
			continue
		case ".", "..":
			if drop {
				continue
			}
			out = append(out, strings.ReplaceAll(seg, ".", "%2E"))
		default:
			out = append(out, url.PathEscape(seg))
		}
	}
	return strings.Join(out, "/")
}

// sarifRuleName turns a rule ID (miner-binary) into the PascalCase name SARIF
// recommends (MinerBinary).
func sarifRuleName(id string) string {
	var b strings.Builder
	for _, p := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' || r == '/' }) {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

// sentence makes s end with a period, as SARIF messages should.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
