package experiments

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-sec/strata/internal/plot"
	"github.com/strata-sec/strata/mutations"
)

func TestRegistry(t *testing.T) {
	if got, want := Names(), []string{Benign, Census, Exp1, Exp2, Exp3, Wild}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if _, err := Get("exp9"); err == nil || !strings.Contains(err.Error(), "known: benign, census, exp1, exp2, exp3, wild") {
		t.Errorf("Get(exp9) = %v, want an error listing the experiments", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering exp1 twice did not panic")
		}
	}()
	Register(exp1{})
}

func TestSliceCheck(t *testing.T) {
	tests := []struct {
		name    string
		exp     string
		slice   Slice
		wantErr string
	}{
		{name: "whole experiment", exp: Exp2},
		{name: "exp3 composes every flag", exp: Exp3, slice: Slice{Types: []string{"pad-binary"}, Detectors: []string{"hierarchical"}, Cases: []string{"111"}, Samples: 1, Benign: []string{"none"}}},
		{name: "exp1 has no types", exp: Exp1, slice: Slice{Types: []string{"dummy-echo"}}, wantErr: "exp1 takes no --types"},
		{name: "unknown type", exp: Exp2, slice: Slice{Types: []string{"no-such-type"}}, wantErr: "strata mutations"},
		{name: "bad case", exp: Exp2, slice: Slice{Cases: []string{"12"}}, wantErr: "--cases"},
		{name: "too many samples", exp: Exp2, slice: Slice{Samples: 6}, wantErr: "--samples 6"},
		{name: "unknown benign image", exp: Benign, slice: Slice{Benign: []string{"nope"}}, wantErr: `unknown benign image "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Get(tt.exp)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.slice.check(e)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("check = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSliceString(t *testing.T) {
	s := Slice{Types: []string{"pad-binary", "rename-binary"}, Cases: []string{"111"}, Samples: 1}
	if got, want := s.String(), "--types pad-binary,rename-binary --cases 111 --samples 1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !(Slice{}).IsZero() || s.IsZero() {
		t.Error("IsZero is wrong")
	}
	h := Slice{Detectors: []string{"hierarchical"}}
	if !h.keepsDetector("hierarchical-only-binary") || h.keepsDetector("multiengine") {
		t.Error("--detectors hierarchical must keep the ablation variants and nothing else")
	}
}

func TestSliceMutations(t *testing.T) {
	names := func(ms []mutations.Mutation) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name())
		}
		return out
	}
	all := mutations.All()
	tests := []struct {
		name  string
		types []string
		want  []string
	}{
		{name: "no --types keeps all", types: nil, want: names(all)},
		{name: "registry order, not flag order", types: []string{"squash", "add-dummy-layer"}, want: []string{"add-dummy-layer", "squash"}},
		{name: "unknown type keeps nothing", types: []string{"no-such-type"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(Slice{Types: tt.types}.mutations(all)); !slices.Equal(got, tt.want) {
				t.Errorf("mutations = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSliceNeverWritesResults: a slice with an explicit results dir is
// refused before anything is prepared, so whole-experiment files there
// cannot be rewritten by part of an experiment.
func TestSliceNeverWritesResults(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), Exp3, Config{ResultsDir: dir, CacheDir: dir, Slice: Slice{Types: []string{"pad-binary"}}})
	if err == nil || !strings.Contains(err.Error(), "never writes into a results dir") {
		t.Fatalf("Run = %v, want the slice refused", err)
	}
}

// TestReportCommitted re-derives every registered experiment's committed
// report (results/<exp>) from its committed record files: results are
// records, tables are projections of them.
func TestReportCommitted(t *testing.T) {
	// Record files a report reads: the census's cost files are records of
	// its run (time and disk), census-run-dev-first.json the first, dev-only
	// run's, when every package was downloaded and every image assembled.
	inputs := map[string]bool{RecordsFile: true, AblationFile: true, NotApplicableFile: true, ManifestFile: true, CensusRunFile: true, CensusImagesFile: true, CensusCanaryFile: true, "census-run-dev-first.json": true}
	// The experiments whose reference run is committed: losing its records
	// fails; a newly registered experiment is skipped until it is promoted.
	committed := []string{Benign, Census, Exp1, Exp2, Exp3, Wild}
	type set struct{ name, exp string }
	var sets []set
	for _, e := range All() {
		sets = append(sets, set{e.Name(), e.Name()})
	}
	// Frozen result sets of earlier detector versions, kept because the
	// README cites them: the wild corpus scanned once with hierarchical
	// 0.3.0, before 0.4.0 was tuned on its dev split, and once with 0.4.0,
	// the pre-registered test number; and with 0.4.1 and 0.5.0, the held-out
	// rounds' numbers (corpus/wild/ROUND2.md).
	for _, frozen := range []string{"hierarchical-0.3.0/wild", "hierarchical-0.4.0/wild", "hierarchical-0.4.1/wild", "hierarchical-0.5.0/wild"} {
		sets = append(sets, set{frozen, Wild})
		committed = append(committed, frozen)
	}
	// The census scanned with 0.4.1, kept when 0.6.0 rescanned it.
	sets = append(sets, set{"hierarchical-0.4.1/census", Census})
	committed = append(committed, "hierarchical-0.4.1/census")
	// Any other frozen set results/hierarchical-<version>/<exp> (the census
	// scanned with 0.4.1, kept when it is rescanned) re-derives too, from
	// the day it is committed.
	more, err := filepath.Glob(filepath.Join("..", "results", "hierarchical-*", "*", RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		dir := filepath.Dir(m)
		name := filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(dir)), filepath.Base(dir)))
		if !slices.Contains(committed, name) {
			sets = append(sets, set{name, filepath.Base(dir)})
			committed = append(committed, name)
		}
	}
	for _, e := range sets {
		t.Run(e.name, func(t *testing.T) {
			src := filepath.Join("..", "results", filepath.FromSlash(e.name))
			if _, err := os.Stat(filepath.Join(src, RecordsFile)); errors.Is(err, os.ErrNotExist) {
				if slices.Contains(committed, e.name) {
					t.Fatalf("no committed %s records in %s: restore them from git", e.name, src)
				}
				t.Skipf("no committed %s records", e.name)
			}
			dir := t.TempDir()
			for name := range inputs {
				b, err := os.ReadFile(filepath.Join(src, name))
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := ReportDir(e.exp, dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, ent := range entries {
				if inputs[ent.Name()] {
					continue
				}
				got, _ := os.ReadFile(filepath.Join(dir, ent.Name()))
				want, err := os.ReadFile(filepath.Join(src, ent.Name()))
				if err != nil {
					t.Errorf("%s is derived from the records but not committed: run `make figures`", ent.Name())
					continue
				}
				if strings.HasSuffix(ent.Name(), ".png") {
					if diff, err := plot.DiffPNG(got, want); err != nil || diff != "" {
						t.Errorf("committed %s differs from the one derived from the records (%s %v): run `make figures`", ent.Name(), diff, err)
					}
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("committed %s differs from the one derived from the records: run `make figures`", ent.Name())
				}
			}
		})
	}
}
