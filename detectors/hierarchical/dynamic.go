package hierarchical

import (
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
)

// The dynamic signal: what the image did when its start command ran (the
// behaviour detector's sandbox), added to the static evidence. It is off
// unless WithDynamic is given, and then the detector reports DynamicSuffix
// after its name, so static records never mix with combined ones.

// DynamicSuffix is appended to Name() with WithDynamic.
const DynamicSuffix = "+dynamic"

// DynamicRulePrefix is put before the rule of every dynamic finding, so a
// behaviour rule never shares a name (and a cap) with a static rule.
const DynamicRulePrefix = "dynamic:"

// DynamicFunc runs img and returns findings about what it did, already
// capped per rule, and facts about the run for Verdict.Info.
type DynamicFunc func(ctx context.Context, img v1.Image) ([]detectors.Finding, map[string]string, error)

// WithDynamic adds the dynamic signal: f's findings join the static ones
// before scoring (they count as core evidence with their own weights), and
// its facts go to Verdict.Info with a "dynamic_" prefix. When f fails for
// the image (the start command could not be run, the container could not
// be stopped), the static verdict stands with a not-scanned finding
// (dynamic-not-run) in place of the run: static evidence that reaches the
// threshold is malicious whatever the run would have added (dynamic weights
// are never negative), and a verdict under it is incomplete, never clean: a
// combined verdict without its dynamic half must not read as one with a
// quiet run. Only a cancelled scan fails. version is f's own version
// (behaviour.Version): the detector's Version becomes DynamicVersion(version),
// so records of two combined detectors whose dynamic halves decide
// differently never share a version.
func WithDynamic(f DynamicFunc, version string) Option {
	return func(o *options) { o.dynamic, o.dynamicVersion = f, version }
}

// DynamicNotRun is the not-scanned kind of a dynamic signal that failed for
// the image: the evidence of its finding is "dynamic-not-run: <error>".
const DynamicNotRun = "dynamic-not-run"

// IsDynamicNotRun reports whether f is the finding addDynamic writes for a
// dynamic signal that failed for the image.
func IsDynamicNotRun(f detectors.Finding) bool {
	return f.Category == detectors.CategoryNotScanned && f.Rule == RuleNotScanned && strings.HasPrefix(f.Evidence, DynamicNotRun+": ")
}

// combination versions how the dynamic signal is combined with the static
// evidence, apart from either's own version: "c1", a failed run keeps the
// static verdict (before it, unversioned, a failed run failed the scan).
const combination = "c1"

// addDynamic runs the dynamic signal and queues its findings.
func (s *scan) addDynamic(ctx context.Context, img v1.Image) (map[string]string, error) {
	fs, info, err := s.d.opts.dynamic(ctx, img)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("hierarchical: dynamic signal: %w", err)
	}
	if err != nil {
		s.add(RuleNotScanned, detectors.NoLayer, "", "", nil, clip(DynamicNotRun+": "+err.Error()))
		return map[string]string{"error": clip(err.Error())}, nil
	}
	for _, f := range fs {
		f.Rule = DynamicRulePrefix + f.Rule
		s.findings = append(s.findings, pending{f: f})
	}
	return info, nil
}
