package hierarchical_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers/layercache"
)

func TestAllSignals(t *testing.T) {
	want := []string{"behavior", "binary", "hash", "hierarchy", "network", "shell", "startgraph", "wallet"}
	if got := hierarchical.AllSignals(); !reflect.DeepEqual(got, want) {
		t.Errorf("AllSignals = %q, want %q", got, want)
	}
	if !sort.StringsAreSorted(hierarchical.AllSignals()) {
		t.Error("not sorted")
	}
	used := map[string]bool{}
	for _, r := range hierarchical.Rules() {
		used[r.Signal] = true
		if r.Signal == "not-scanned" {
			if r.Category != detectors.CategoryNotScanned {
				t.Errorf("%s: always-on signal on a scored rule", r.ID)
			}
			continue
		}
		if !contains(want, r.Signal) {
			t.Errorf("%s: signal %q is not a signal", r.ID, r.Signal)
		}
	}
	for _, s := range want {
		if !used[s] {
			t.Errorf("signal %s has no rule", s)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestParseSignals(t *testing.T) {
	all := hierarchical.AllSignals()
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", all, ""},
		{"all", all, ""},
		{"network", []string{"network"}, ""},
		{" shell , network,shell", []string{"network", "shell"}, ""},
		{"hash,all", all, ""},
		{"netwrok", nil, `unknown signal "netwrok" (valid: behavior, binary, hash, hierarchy, network, shell, startgraph, wallet, or all)`},
		{"not-scanned", nil, "unknown signal"},
		{",", nil, "no signal"},
	}
	for _, tt := range tests {
		got, err := hierarchical.ParseSignals(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSignals(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
		case err != nil || !reflect.DeepEqual(got, tt.want):
			t.Errorf("ParseSignals(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestWithSignals(t *testing.T) {
	if got := hierarchical.New().Signals(); !reflect.DeepEqual(got, hierarchical.AllSignals()) {
		t.Errorf("default signals %q", got)
	}
	if got := hierarchical.New(hierarchical.WithSignals("wallet", "binary")).Signals(); !reflect.DeepEqual(got, []string{"binary", "wallet"}) {
		t.Errorf("signals %q", got)
	}
	if got := hierarchical.New(hierarchical.WithSignals()).Signals(); !reflect.DeepEqual(got, hierarchical.AllSignals()) {
		t.Errorf("WithSignals() = %q, want all", got)
	}
	img := dt.Image(t, v1.Config{}, dt.Run("true", dt.Text("x", "y")))
	_, err := hierarchical.New(hierarchical.WithSignals("network", "bogus")).Scan(context.Background(), img)
	if err == nil || !strings.Contains(err.Error(), `unknown signal "bogus"`) {
		t.Errorf("unknown signal: Scan error %v", err)
	}
	if d := hierarchical.New(); d.Name() != "hierarchical" {
		t.Errorf("name %s", d.Name())
	}
}

func signalOf(rule string) string {
	for _, r := range hierarchical.Rules() {
		if r.ID == rule {
			return r.Signal
		}
	}
	return ""
}

// TestSignalsFilterEvidence: with some signals off, no finding of theirs is
// produced, scored or used by correlation and blame.
func TestSignalsFilterEvidence(t *testing.T) {
	img, _ := sample(t, true, true, true)
	full := scan(t, img)
	for _, sigs := range [][]string{{"network"}, {"binary"}, {"behavior", "shell"}, {"hierarchy"}, {"wallet"}, {"hash"}} {
		t.Run(strings.Join(sigs, "+"), func(t *testing.T) {
			v := scan(t, img, hierarchical.WithSignals(sigs...))
			for _, f := range v.Findings {
				if s := signalOf(f.Rule); s != "not-scanned" && !contains(sigs, s) {
					t.Errorf("finding of disabled signal %s: %+v", s, f)
				}
			}
			// The score and blame are those of the enabled findings alone.
			score, perLayer := hierarchical.Score(v.Findings)
			if score != v.Score {
				t.Errorf("score %v, recomputed from the findings %v", v.Score, score)
			}
			for _, l := range v.BlamedLayers {
				if perLayer[l] < hierarchical.StrongWeight {
					t.Errorf("layer %d blamed with %v points of enabled evidence", l, perLayer[l])
				}
			}
			if v.Score > full.Score {
				t.Errorf("score %v with fewer signals exceeds the full %v", v.Score, full.Score)
			}
			if v.Info["signals"] != strings.Join(sortedCopy(sigs), ",") {
				t.Errorf("Info signals = %q", v.Info["signals"])
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// TestHierarchyAlone: hierarchy rules see only structure plus the evidence of
// enabled signals. Alone, only hier-added-chmod-started (ADD in one layer,
// chmod in another, started by ENTRYPOINT: history, modes and config) can
// fire; the rules that tie strong evidence to the config or to a deletion
// have no evidence to tie.
func TestHierarchyAlone(t *testing.T) {
	img, _ := sample(t, true, true, true)
	v := scan(t, img, hierarchical.WithSignals("hierarchy"))
	var rules []string
	for _, f := range v.Findings {
		if f.Category != detectors.CategoryNotScanned {
			rules = append(rules, f.Rule)
		}
	}
	if !reflect.DeepEqual(rules, []string{hierarchical.RuleAddedChmodStarted}) || v.Decision != detectors.Clean || len(v.BlamedLayers) != 0 {
		t.Errorf("hierarchy alone: %s score %v blamed %v rules %v", v.Decision, v.Score, v.BlamedLayers, rules)
	}
	// With the binary signal, the ELF's strong evidence is tied to the
	// ENTRYPOINT again.
	v = scan(t, img, hierarchical.WithSignals("hierarchy", "binary"))
	if len(findings(v, hierarchical.RuleStartedFlaggedFile)) == 0 {
		t.Errorf("hierarchy+binary: no %s: %+v", hierarchical.RuleStartedFlaggedFile, v.Findings)
	}
	if len(findings(v, hierarchical.RuleHiddenEvidence)) != 0 {
		t.Errorf("hierarchy+binary: hidden evidence tied without a binary finding in the hidden script: %+v", findings(v, hierarchical.RuleHiddenEvidence))
	}
	v = scan(t, img, hierarchical.WithSignals("hierarchy", "behavior"))
	if len(findings(v, hierarchical.RuleHiddenEvidence)) == 0 {
		t.Errorf("hierarchy+behavior: the hidden script's run-miner is not tied to its deletion")
	}
}

// TestSignalsShareTheCache: the per-layer cache does not depend on the
// signals. After one scan with every signal, a scan with signals X replays
// every layer and equals a cold scan with X.
func TestSignalsShareTheCache(t *testing.T) {
	ctx := context.Background()
	imgs := cacheImages(t)
	var settings [][]string
	for _, s := range hierarchical.AllSignals() {
		var rest []string
		for _, o := range hierarchical.AllSignals() {
			if o != s {
				rest = append(rest, o)
			}
		}
		settings = append(settings, []string{s}, rest)
	}
	for name, img := range imgs {
		c := layercache.New()
		if _, err := hierarchical.New(hierarchical.WithLayerCache(c)).Scan(ctx, img); err != nil {
			t.Fatal(err)
		}
		for _, sigs := range settings {
			cold, err := hierarchical.New(hierarchical.WithLayerCache(nil), hierarchical.WithSignals(sigs...)).Scan(ctx, img)
			if err != nil {
				t.Fatal(err)
			}
			counted, reads := dt.CountReads(img)
			warm, err := hierarchical.New(hierarchical.WithLayerCache(c), hierarchical.WithSignals(sigs...)).Scan(ctx, counted)
			if err != nil {
				t.Fatal(err)
			}
			if reads.Total() != 0 {
				t.Errorf("%s %v: the cached scan read %d layers", name, sigs, reads.Total())
			}
			if !reflect.DeepEqual(cold, warm) {
				t.Errorf("%s %v: cached verdict differs from cold:\ncold %+v\nwarm %+v", name, sigs, cold, warm)
			}
		}
	}
}
