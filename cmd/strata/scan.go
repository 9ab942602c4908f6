package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/detectors/dockerfile"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/layers"
	"github.com/strata-sec/strata/internal/sandbox"
	"github.com/strata-sec/strata/internal/scanreport"
)

func init() {
	register("scan", command{
		summary: "scan an image (OCI layout dir or tar, docker-archive, registry) with the hierarchical detector, or a Dockerfile before build (--dockerfile); exit non-zero unless clean",
		run:     runScan,
	})
}

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

Exit codes (fail closed; with several targets the most severe wins,
malicious > invalid > incomplete > clean):
  0    every target clean
  1    malicious
  2    usage or input error (bad flags, unreadable image, scan error)
  3    incomplete: some content was not scanned (a limit), or --dynamic could
       not run the start command (dynamic-not-run)
  4    invalid: integrity error (truncated or corrupt layer, digest mismatch, path or link escape)
  130  interrupted (SIGINT or SIGTERM)
--fail-on malicious exits 0 for incomplete and invalid targets, with a warning on stderr.
--format sarif writes SARIF 2.1.0 (e.g. for GitHub code scanning; see README.md).

strata scan --dockerfile PATH [--context DIR] analyses a Dockerfile and its
build context before any build (the dockerfile detector, modelling DAVS):
same formats and exit codes; SARIF results point at the Dockerfile lines.
`

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scan", "REF", stderr)
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(stderr, scanRefHelp)
	}
	format := fs.String("format", "table", "output format: "+strings.Join(scanreport.Formats, ", ")+" (SARIF 2.1.0)")
	failOnFlag := fs.String("fail-on", string(scanreport.FailOnIncomplete), "exit non-zero for this decision and every more severe one: incomplete (anything but clean), invalid, malicious (incomplete/invalid only warn), never")
	quiet := fs.Bool("quiet", false, "print nothing on stdout (warnings still go to stderr); report through the exit code")
	cacheDir := fs.String("cache", "", "keep per-layer results in this directory, so later scans skip layers already seen (default: no cache)")
	platform := fs.String("platform", "", "scan only this platform of a multi-platform image: os/arch[/variant], e.g. linux/arm64")
	insecure := fs.Bool("insecure", false, "allow plain-HTTP and self-signed registries")
	signals := fs.String("signals", "all", "evidence to use, comma-separated: "+strings.Join(hierarchical.AllSignals(), ",")+" (or all)")
	knownSamples := fs.String("known-samples", "", "JSON-lines file of known malicious samples (TLSH, sha256) for the hash signal, e.g. results/exp1/"+experiments.KnownSamplesFile)
	dockerfilePath := fs.String("dockerfile", "", "scan this Dockerfile and its build context before any build (the dockerfile detector) instead of an image")
	contextDir := fs.String("context", "", "the build context of --dockerfile (default: the Dockerfile's directory)")
	dynamic := fs.Bool("dynamic", false, "also run the image's start command in a sealed runc sandbox and add what it did (stratum logins, downloads, persistence) to the verdict; needs root and runc")
	parallel := fs.Int("parallel", 0, fmt.Sprintf("layers fetched and analysed at once (default: GOMAXPROCS, at least %d for a registry image)", imageref.RegistryLayersAtOnce))
	dynamicTimeout := fs.Duration("dynamic-timeout", sandbox.DefaultTimeout, "with --dynamic: how long the start command runs before it is killed")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the scan to this file (go tool pprof)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *dockerfilePath != "" && len(pos) > 0 {
		return fmt.Errorf("--dockerfile scans a Dockerfile, not %s: drop the image reference or --dockerfile", pos[0])
	}
	if *contextDir != "" && *dockerfilePath == "" {
		return fmt.Errorf("--context needs --dockerfile PATH")
	}
	if *dockerfilePath == "" && len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("name one image to scan, e.g. strata scan ./layout:myapp or strata scan registry:alpine:3.20")
	}
	if err := scanreport.CheckFormat(*format); err != nil {
		return err
	}
	failOn, err := scanreport.ParseFailOn(*failOnFlag)
	if err != nil {
		return err
	}
	var rep scanreport.Report
	if *dockerfilePath != "" {
		if *dynamic {
			return fmt.Errorf("--dynamic runs an image's start command; a Dockerfile has no image yet: drop --dynamic or scan the built image")
		}
		rep, err = scanDockerfile(ctx, *dockerfilePath, *contextDir)
	} else {
		var extra []hierarchical.Option
		if *dynamic {
			opt, err := dynamicOption(*dynamicTimeout)
			if err != nil {
				return err
			}
			extra = append(extra, opt)
		}
		rep, err = scanImage(ctx, pos[0], *signals, *knownSamples, *cacheDir, *parallel, imageref.Options{Platform: *platform, Insecure: *insecure}, extra...)
	}
	if err != nil {
		return err
	}
	if !*quiet {
		if err := scanreport.Write(stdout, rep, *format); err != nil {
			return err
		}
	}
	o := rep.Outcome(failOn)
	for _, w := range o.Warnings {
		fmt.Fprintln(stderr, "strata: warning:", w)
	}
	if o.Code == scanreport.ExitClean {
		return nil
	}
	msg := strings.Join(o.Failed, "; ")
	if *quiet {
		msg = "" // --quiet: the exit code says it
	}
	return exitError{code: o.Code, msg: msg}
}

func scanImage(ctx context.Context, ref, signals, knownSamples, cacheDir string, parallel int, o imageref.Options, extra ...hierarchical.Option) (scanreport.Report, error) {
	if _, err := hierarchical.ParseSignals(signals); err != nil {
		return scanreport.Report{}, fmt.Errorf("--signals: %w", err) // before any registry request
	}
	targets, err := imageref.Open(ctx, ref, o)
	if err != nil {
		return scanreport.Report{}, err
	}
	// One scan has the machine: read layers on every core it may use, and
	// a registry's layers a few at once even on one core (they stream: each
	// is analysed while it arrives and verified at its end).
	if parallel <= 0 {
		parallel = imageref.LayersAtOnce(targets)
	}
	par := hierarchical.WithWalkOptions(layers.WithParallelLayers(parallel))
	det, err := scanDetector(signals, knownSamples, cacheDir, append([]hierarchical.Option{par}, extra...)...)
	if err != nil {
		return scanreport.Report{}, err
	}
	return scanreport.Scan(ctx, det, targets)
}

// scanDockerfile runs the pre-build detector on file with build context
// dir ("": the Dockerfile's directory). Both are named relative to the
// working directory when inside it, so SARIF locations resolve against
// the repository a CI job runs in.
func scanDockerfile(ctx context.Context, file, dir string) (scanreport.Report, error) {
	if dir == "" {
		dir = filepath.Dir(file)
	}
	file, dir = relToWD(file), relToWD(dir)
	det := dockerfile.New()
	v, err := det.ScanPath(ctx, file, dir)
	if err != nil {
		return scanreport.Report{}, err
	}
	return scanreport.Report{Schema: scanreport.Schema, Detector: scanreport.DetectorInfo{Name: det.Name(), Version: det.Version()},
		Targets: []scanreport.Target{scanreport.FromDockerfileVerdict(filepath.ToSlash(file), filepath.ToSlash(dir), v)}}, nil
}

// relToWD names p relative to the working directory when it lies inside.
func relToWD(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	return rel
}

// dynamicOption is the dynamic signal: the behaviour detector's sealed
// run, bounded by timeout. It fails before any image is opened when the
// sandbox cannot run here (not root, runc missing).
func dynamicOption(timeout time.Duration) (hierarchical.Option, error) {
	if timeout <= 0 {
		return nil, fmt.Errorf("--dynamic-timeout must be positive, e.g. 20s")
	}
	if err := sandbox.Check(); err != nil {
		return nil, err
	}
	bd := behaviour.New(sandbox.WithTimeout(timeout))
	return hierarchical.WithDynamic(bd.Findings, behaviour.Version), nil
}

// scanDetector builds the hierarchical detector the scan flags ask for.
func scanDetector(signals, knownSamples, cacheDir string, extra ...hierarchical.Option) (*hierarchical.Detector, error) {
	sigs, err := hierarchical.ParseSignals(signals)
	if err != nil {
		return nil, fmt.Errorf("--signals: %w", err)
	}
	var ks []hierarchical.KnownSample
	if knownSamples != "" {
		f, err := os.Open(knownSamples)
		if err != nil {
			return nil, fmt.Errorf("--known-samples: %w", err)
		}
		ks, err = hierarchical.ReadKnownSamples(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--known-samples %s: %w", knownSamples, err)
		}
	}
	opts := []hierarchical.Option{hierarchical.WithLayerCache(nil)}
	if cacheDir != "" {
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("create cache dir: %w", err)
		}
		opts = []hierarchical.Option{hierarchical.WithCacheDir(cacheDir)}
	}
	opts = append(opts, hierarchical.WithSignals(sigs...), hierarchical.WithKnownSamples(ks))
	return hierarchical.New(append(opts, extra...)...), nil
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
