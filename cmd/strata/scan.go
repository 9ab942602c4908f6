package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/layers"
)

func init() {
	register("scan", command{
		summary: "scan an image (OCI layout dir or tar, docker-archive, registry) with the hierarchical detector; exit 1 if flagged",
		run:     runScan,
	})
}

// ScanSchema versions the JSON output; bump it with any incompatible change
// and document the schema in README.md ("Scan an image").
const ScanSchema = "strata.scan/v1"

const scanRefHelp = `
REF is one of:
  DIR                  an OCI image layout directory holding one image
  DIR:NAME             the entry annotated org.opencontainers.image.ref.name=NAME
  DIR@sha256:HEX       the entry (or platform manifest) with that digest
  FILE[:NAME|@DIGEST]  an OCI-layout tar, or a docker-archive tar (docker save; FILE:REPO:TAG)
  oci-layout:DIR[...]  a layout directory, never a registry
  registry:REF         a registry image, e.g. registry:ghcr.io/org/app:1.2
  REF                  anything else that parses as an image reference (alpine:3.20)
A multi-platform index is scanned platform by platform (--platform picks one).

Exit codes: 0 nothing flagged, 1 flagged (see --fail-on), 2 error.
--format sarif writes SARIF 2.1.0 (e.g. for GitHub code scanning; see README.md).
`

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scan", "REF", stderr)
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(stderr, scanRefHelp)
	}
	format := fs.String("format", "table", "output format: table, json or sarif (SARIF 2.1.0)")
	failOn := fs.String("fail-on", "malicious", "exit 1 when a target is malicious; incomplete: also when one could not be fully scanned")
	quiet := fs.Bool("quiet", false, "print nothing; report through the exit code only")
	cacheDir := fs.String("cache", "", "keep per-layer results in this directory, so later scans skip layers already seen (default: no cache)")
	platform := fs.String("platform", "", "scan only this platform of a multi-platform image: os/arch[/variant], e.g. linux/arm64")
	insecure := fs.Bool("insecure", false, "allow plain-HTTP and self-signed registries")
	signals := fs.String("signals", "all", "evidence to use, comma-separated: "+strings.Join(hierarchical.AllSignals(), ",")+" (or all)")
	knownSamples := fs.String("known-samples", "", "JSON-lines file of known malicious samples (TLSH, sha256) for the hash signal, e.g. results/exp1/"+experiments.KnownSamplesFile)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("name one image to scan, e.g. strata scan ./layout:myapp or strata scan registry:alpine:3.20")
	}
	switch *format {
	case "table", "json", "sarif":
	default:
		return fmt.Errorf("unknown --format %q (table, json, sarif)", *format)
	}
	if *failOn != "malicious" && *failOn != "incomplete" {
		return fmt.Errorf("unknown --fail-on %q (malicious, incomplete)", *failOn)
	}
	sigs, err := hierarchical.ParseSignals(*signals)
	if err != nil {
		return fmt.Errorf("--signals: %w", err)
	}
	var ks []hierarchical.KnownSample
	if *knownSamples != "" {
		f, err := os.Open(*knownSamples)
		if err != nil {
			return fmt.Errorf("--known-samples: %w", err)
		}
		ks, err = hierarchical.ReadKnownSamples(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--known-samples %s: %w", *knownSamples, err)
		}
	}

	targets, err := imageref.Open(ctx, pos[0], imageref.Options{Platform: *platform, Insecure: *insecure})
	if err != nil {
		return err
	}
	opts := []hierarchical.Option{hierarchical.WithLayerCache(nil)}
	if *cacheDir != "" {
		if err := os.MkdirAll(*cacheDir, 0o755); err != nil {
			return fmt.Errorf("create cache dir: %w", err)
		}
		opts = []hierarchical.Option{hierarchical.WithCacheDir(*cacheDir)}
	}
	opts = append(opts, hierarchical.WithSignals(sigs...), hierarchical.WithKnownSamples(ks))
	det := hierarchical.New(opts...)

	rep := scanReport{Schema: ScanSchema, Detector: scanDetector{Name: det.Name(), Version: det.Version()}, Targets: []scanTarget{}}
	for _, t := range targets {
		st, err := scanOne(ctx, det, t)
		if err != nil {
			return err
		}
		rep.Targets = append(rep.Targets, st)
	}

	if !*quiet {
		switch *format {
		case "sarif":
			if err := writeScanSARIF(stdout, rep); err != nil {
				return err
			}
		case "json":
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(rep); err != nil {
				return err
			}
		default:
			if err := writeScanText(stdout, rep); err != nil {
				return err
			}
		}
	}

	var flagged []string
	for _, t := range rep.Targets {
		if t.Decision == string(detectors.Malicious) || (*failOn == "incomplete" && t.Decision == string(detectors.Incomplete)) {
			flagged = append(flagged, t.label()+" is "+t.Decision)
		}
	}
	if len(flagged) > 0 {
		msg := strings.Join(flagged, "; ")
		if *quiet {
			msg = "" // --quiet: the exit code says it
		}
		return exitError{code: 1, msg: msg}
	}
	return nil
}

// scanReport is the JSON document (schema strata.scan/v1).
type scanReport struct {
	Schema   string       `json:"schema"`
	Detector scanDetector `json:"detector"`
	Targets  []scanTarget `json:"targets"`
}

type scanDetector struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type scanTarget struct {
	Name           string        `json:"name"`
	Platform       string        `json:"platform"`
	ManifestDigest string        `json:"manifest_digest"`
	Decision       string        `json:"decision"`
	Score          float64       `json:"score"`
	Threshold      float64       `json:"threshold"`
	BlamedLayers   []int         `json:"blamed_layers"`
	Layers         []scanLayer   `json:"layers"`
	ConfigFindings []scanFinding `json:"config_findings"`
}

func (t scanTarget) label() string {
	if t.Platform == "" {
		return t.Name
	}
	return t.Name + " (" + t.Platform + ")"
}

type scanLayer struct {
	Index     int           `json:"index"`
	DiffID    string        `json:"diff_id"`
	Digest    string        `json:"digest"`
	Size      int64         `json:"size"`
	CreatedBy string        `json:"created_by"`
	Blamed    bool          `json:"blamed"`
	Findings  []scanFinding `json:"findings"`
}

type scanFinding struct {
	Rule     string  `json:"rule"`
	Category string  `json:"category"`
	Weight   float64 `json:"weight"`
	Path     string  `json:"path,omitempty"`
	Evidence string  `json:"evidence"`
	// Hidden: the file was deleted by layer RemovedBy.
	Hidden    bool `json:"hidden,omitempty"`
	RemovedBy *int `json:"removed_by,omitempty"`
}

// scanOne scans one target and lays its verdict out per layer.
func scanOne(ctx context.Context, det detectors.Detector, t imageref.Target) (scanTarget, error) {
	st := scanTarget{Name: t.Name, Platform: t.Platform, BlamedLayers: []int{}, Layers: []scanLayer{}, ConfigFindings: []scanFinding{}}
	fail := func(what string, err error) (scanTarget, error) {
		return scanTarget{}, fmt.Errorf("%s: %s: %w", st.label(), what, err)
	}
	d, err := t.Image.Digest()
	if err != nil {
		return fail("manifest digest", err)
	}
	st.ManifestDigest = d.String()
	m, err := t.Image.Manifest()
	if err != nil {
		return fail("read manifest", err)
	}
	cf, err := t.Image.ConfigFile()
	if err != nil {
		return fail("read config", err)
	}
	createdBy := layerCreatedBy(cf.History)
	for i, l := range m.Layers {
		sl := scanLayer{Index: i, Digest: l.Digest.String(), Size: l.Size, Findings: []scanFinding{}}
		if i < len(cf.RootFS.DiffIDs) {
			sl.DiffID = cf.RootFS.DiffIDs[i].String()
		}
		if i < len(createdBy) {
			sl.CreatedBy = createdBy[i]
		}
		st.Layers = append(st.Layers, sl)
	}

	v, err := det.Scan(ctx, t.Image)
	if err != nil {
		return fail("scan", err)
	}
	st.Decision, st.Score, st.Threshold = string(v.Decision), v.Score, v.Threshold
	st.BlamedLayers = append(st.BlamedLayers, v.BlamedLayers...)
	for _, b := range v.BlamedLayers {
		if b >= 0 && b < len(st.Layers) {
			st.Layers[b].Blamed = true
		}
	}
	for _, f := range v.Findings {
		sf := scanFinding{Rule: f.Rule, Category: string(f.Category), Weight: f.Weight, Path: f.Path, Evidence: f.Evidence, Hidden: f.Hidden}
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
	}
	sortFindings(st.ConfigFindings)
	return st, nil
}

// layerCreatedBy aligns history with layers: non-empty entries map 1:1 to
// layers, bottom up, as the walker does.
func layerCreatedBy(h []v1.History) []string {
	var out []string
	for _, e := range h {
		if !e.EmptyLayer {
			out = append(out, e.CreatedBy)
		}
	}
	return out
}

// sortFindings orders findings strongest first, then by rule, path and
// evidence, so output does not depend on detector internals.
func sortFindings(fs []scanFinding) {
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

// writeScanText renders the human view: per target a header and the layers
// bottom up, each with its findings under it.
func writeScanText(w io.Writer, rep scanReport) error {
	ew := &errWriter{w: w}
	counts := map[string]int{}
	for n, t := range rep.Targets {
		counts[t.Decision]++
		if n > 0 {
			ew.printf("\n")
		}
		ew.printf("%s\n", t.label())
		ew.printf("  manifest   %s\n", t.ManifestDigest)
		ew.printf("  decision   %s  score %s / threshold %s", strings.ToUpper(t.Decision), num(t.Score), num(t.Threshold))
		if len(t.BlamedLayers) > 0 {
			var bs []string
			for _, b := range t.BlamedLayers {
				bs = append(bs, strconv.Itoa(b))
			}
			ew.printf("  blamed layers %s", strings.Join(bs, ", "))
		}
		ew.printf("\n\n  %-5s  %-12s  %9s  %s\n", "LAYER", "DIFF ID", "SIZE", "CREATED BY")
		for _, l := range t.Layers {
			mark := ""
			if l.Blamed {
				mark = "  <- blamed"
			}
			ew.printf("  %-5d  %-12s  %9s  %s%s\n", l.Index, shortDigest(l.DiffID), humanSize(l.Size), excerpt(displayCreatedBy(l.CreatedBy), 60), mark)
			writeFindings(ew, l.Findings)
		}
		if len(t.ConfigFindings) > 0 {
			ew.printf("  %-5s  %s\n", "config", "(ENTRYPOINT, CMD, ENV and image-wide findings)")
			writeFindings(ew, t.ConfigFindings)
		}
	}
	if len(rep.Targets) > 1 {
		ew.printf("\n%d targets: %d malicious, %d incomplete, %d clean\n", len(rep.Targets),
			counts[string(detectors.Malicious)], counts[string(detectors.Incomplete)], counts[string(detectors.Clean)])
	}
	return ew.err
}

func writeFindings(ew *errWriter, fs []scanFinding) {
	for _, f := range fs {
		where := f.Path
		if f.Hidden && f.RemovedBy != nil {
			where += fmt.Sprintf(" (deleted by layer %d)", *f.RemovedBy)
		}
		if f.Category == string(detectors.CategoryNotScanned) {
			ew.printf("         ? NOT SCANNED %s  %s\n", f.Rule, where)
		} else {
			ew.printf("         ! %s/%s  +%s  %s\n", f.Category, f.Rule, num(f.Weight), where)
		}
		if f.Evidence != "" {
			ew.printf("             %s\n", excerpt(f.Evidence, 100))
		}
	}
}

// displayCreatedBy shows a history entry as the Dockerfile line it came
// from, without builder noise (`/bin/sh -c #(nop)`, `# buildkit`).
func displayCreatedBy(s string) string {
	if s == "" {
		return "-"
	}
	if st := layers.ParseCreatedBy(s); st.Instruction != "" {
		return st.Instruction + " " + st.Args
	}
	return s
}

// excerpt collapses whitespace and cuts s to n runes.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func shortDigest(s string) string {
	_, hex, ok := strings.Cut(s, ":")
	if !ok {
		hex = s
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	if hex == "" {
		return "-"
	}
	return hex
}

func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n), "kB"
	for _, next := range []string{"MB", "GB", "TB"} {
		f /= unit
		if f < unit {
			break
		}
		u = next
	}
	return fmt.Sprintf("%.1f %s", f, u)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
