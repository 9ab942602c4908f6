package hierarchical

// Sample-blind scanning: how well does the detector do without anything
// learned from the paper's sample? The data lists tag the sample's own
// indicators ("# sample": its binary name minerd, its pool
// pool.minergate.com and port 45560, its repository cpuminer-multi);
// WithSampleBlind drops every finding that exists only because of one of
// them, and the known samples (hashes learned from the first sighting).
//
// The analysis itself is unchanged (one layer cache serves both variants):
// a finding whose evidence names a tagged indicator is checked again with
// the indicator masked, by the same rule logic, and kept only if it still
// fires (a stratum URL to the sample's pool is still a stratum URL; a
// pool-domain finding for it is not).

import (
	"path"
	"regexp"
	"strings"
)

// SampleBlindName is the detector's Name() with WithSampleBlind.
const SampleBlindName = Name + "-sample-blind"

// WithSampleBlind removes the paper sample's indicators from the data lists
// and ignores known samples; the detector then reports SampleBlindName.
func WithSampleBlind() Option { return func(o *options) { o.sampleBlind = true } }

// sampleMask matches any tagged indicator, as a whole word.
var sampleMask = func() *regexp.Regexp {
	// The lists fill sampleEntries as they load: name them so that they
	// are initialised first.
	_, _, _, _ = minerBinaries, poolDomains, minerRepos, minerPorts
	var alts []string
	for _, list := range sampleEntries {
		for _, e := range list {
			alts = append(alts, regexp.QuoteMeta(e))
		}
	}
	if len(alts) == 0 {
		return nil
	}
	return regexp.MustCompile(`(?i)(?:^|\b)(?:` + strings.Join(alts, "|") + `)(?:\b|$)`)
}()

// masked replaces the tagged indicators in s by neutral words.
func masked(s string) (string, bool) {
	if sampleMask == nil || !sampleMask.MatchString(s) {
		return s, false
	}
	return sampleMask.ReplaceAllStringFunc(s, func(m string) string {
		if strings.Trim(m, "0123456789") == "" {
			return "1000" // a port, not a listed one
		}
		return "sample-indicator"
	}), true
}

// blindKeeps reports whether a finding stands without the sample's
// indicators: structural and content rules that no list feeds always do;
// the rest are re-derived from the masked evidence.
func blindKeeps(rule, ev string) bool {
	m, hit := masked(ev)
	if !hit {
		return true
	}
	switch rule {
	case RuleMinerBinary:
		f := strings.Fields(m)
		return len(f) > 0 && isMinerName(path.Base(f[0]))
	case RulePoolDomain, RuleMinerRepo, RuleStratumURL, RuleMoneroWallet, RuleDocMiningReference:
		for _, h := range scanLine(m) {
			if h.rule == rule || rule == RuleDocMiningReference {
				return true
			}
		}
		return false
	case RuleELFMinerAgent:
		return agentRe.MatchString(strings.ToLower(m)) || strings.Contains(m, "libuv")
	case RuleEntrypointMiner, RuleRunMiner, RuleBackgroundMiner, RuleKillCompetitors, RuleMinerPort, RulePersistenceMiner,
		RuleMinerCmdline, RuleMinerOptions, RuleMinerDependency:
		cmd := m
		if _, after, ok := strings.Cut(m, ": "); ok && strings.HasPrefix(m, "/") {
			cmd = after // "/etc/crontab: CMD"
		}
		for _, entry := range []bool{true, false} {
			for _, h := range analyzeScript(parseShell(cmd), entry) {
				if h.rule == rule {
					return true
				}
			}
			for _, h := range persistenceHits(persistUserCron, "x", cmd) {
				if h.rule == rule {
					return true
				}
			}
		}
		return false
	}
	return true
}
