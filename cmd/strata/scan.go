package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/experiments"
	"github.com/strata-sec/strata/internal/imageref"
	"github.com/strata-sec/strata/internal/sandbox"
	"github.com/strata-sec/strata/internal/scanreport"
)

func init() {
	register("scan", command{
		summary: "scan an image (OCI layout dir or tar, docker-archive, registry) with the hierarchical detector; exit non-zero unless clean",
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
  3    incomplete: some content was not scanned (a limit)
  4    invalid: integrity error (truncated or corrupt layer, digest mismatch, path or link escape)
  130  interrupted (SIGINT or SIGTERM)
--fail-on malicious exits 0 for incomplete and invalid targets, with a warning on stderr.
--format sarif writes SARIF 2.1.0 (e.g. for GitHub code scanning; see README.md).
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
	dynamic := fs.Bool("dynamic", false, "also run the image's start command in a sealed runc sandbox and add what it did (stratum logins, downloads, persistence) to the verdict; needs root and runc")
	dynamicTimeout := fs.Duration("dynamic-timeout", sandbox.DefaultTimeout, "with --dynamic: how long the start command runs before it is killed")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
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
	var extra []hierarchical.Option
	if *dynamic {
		opt, err := dynamicOption(*dynamicTimeout)
		if err != nil {
			return err
		}
		extra = append(extra, opt)
	}
	det, err := scanDetector(*signals, *knownSamples, *cacheDir, extra...)
	if err != nil {
		return err
	}
	targets, err := imageref.Open(ctx, pos[0], imageref.Options{Platform: *platform, Insecure: *insecure})
	if err != nil {
		return err
	}
	rep, err := scanreport.Scan(ctx, det, targets)
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
	return hierarchical.WithDynamic(bd.Findings), nil
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
