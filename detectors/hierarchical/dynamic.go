package hierarchical

import (
	"context"
	"fmt"

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
// its facts go to Verdict.Info with a "dynamic_" prefix. A failing f fails
// the scan: a combined verdict without its dynamic half would read as one
// with a quiet run. version is f's own version (behaviour.Version): the
// detector's Version becomes Version+"+d"+version, so records of two
// combined detectors whose dynamic halves decide differently never share a
// version.
func WithDynamic(f DynamicFunc, version string) Option {
	return func(o *options) { o.dynamic, o.dynamicVersion = f, version }
}

// addDynamic runs the dynamic signal and queues its findings.
func (s *scan) addDynamic(ctx context.Context, img v1.Image) (map[string]string, error) {
	fs, info, err := s.d.opts.dynamic(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("hierarchical: dynamic signal: %w", err)
	}
	for _, f := range fs {
		f.Rule = DynamicRulePrefix + f.Rule
		s.findings = append(s.findings, pending{f: f})
	}
	return info, nil
}
