package experiments

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/wild"
	"github.com/strata-sec/strata/detectors"
)

// Wild is the independent, pre-registered evaluation: images of distinct
// subjects shaped like real-world malicious and benign images that nobody
// tuned the detectors on (corpus/wild), split into dev and test by the
// committed corpus/wild/split.json.
const Wild = "wild"

func init() { Register(wildExperiment{}) }

type wildExperiment struct{}

func (wildExperiment) Name() string { return Wild }
func (wildExperiment) Summary() string {
	return "independent wild corpus: distinct malicious and benign subjects, pre-registered dev/test split, per-family rates"
}
func (wildExperiment) Flags() []string { return []string{FlagSubjects, FlagSplit, FlagDetectors} }

// Plan builds the wild subjects of the slice and scans them with every
// detector (records.jsonl) and with the hierarchical detector's ablation
// variants (ablation.jsonl). A subject's label comes from its Dockerfile's markers and must
// agree with the label corpus/wild gives it.
func (wildExperiment) Plan(ctx context.Context, env *Env) (*Plan, error) {
	var images []benign.Image
	subjects := map[string]wild.Subject{}
	for _, s := range wild.Subjects() {
		if env.Config.Slice.keepsSubject(s.Name) {
			images = append(images, s.Image())
			subjects[s.Name] = s
		}
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("wild: the slice keeps no subject")
	}
	set := corpusSet{exp: Wild, prefix: "wild", served: wild.WriteServed,
		check: func(im benign.Image, t corpus.Truth) error { return checkWildTruth(subjects[im.Name], t) }}
	bs, err := env.buildCorpusImages(ctx, set, images)
	if err != nil {
		return nil, err
	}
	built := make([]Built, len(bs))
	for i, b := range bs {
		s := subjects[b.Case]
		b.Family, b.Split, b.Grey = s.Family, wild.SplitOf(s.Name), s.Label == wild.Grey
		built[i] = b.Built
	}
	// The ablation of the hierarchical detector's signals on the same
	// images: what each kind of evidence (the start graph and the layer
	// hierarchy among them) contributes per family.
	ablation := func(s *DetectorSet) []detectors.Detector { return s.Ablation() }
	return &Plan{Built: len(built), Passes: []Pass{
		{File: RecordsFile, Experiment: Wild, Images: built, Detectors: allDetectors},
		{File: AblationFile, Experiment: Wild, Images: built, Detectors: ablation},
	}}, nil
}

// checkWildTruth checks a built subject's markers against its label: a
// malicious subject marks its malicious instructions, a benign or grey one
// marks none.
func checkWildTruth(s wild.Subject, t corpus.Truth) error {
	switch {
	case s.Label == wild.Malicious && !t.Malicious():
		return fmt.Errorf("wild %s: labelled malicious but its Dockerfile marks no instruction (# %s=TAG)", s.Name, corpus.MarkerPrefix)
	case s.Label != wild.Malicious && t.Malicious():
		return fmt.Errorf("wild %s: labelled %s but its Dockerfile marks malicious layers %v", s.Name, s.Label, t.MaliciousLayers)
	}
	return nil
}

// Report derives the wild report from records.jsonl and appends the
// ablation table from ablation.jsonl when the run has one.
func (wildExperiment) Report(dir string, _ Slice) (*Report, error) {
	recs, warns, err := readRecordsWarn(filepath.Join(dir, RecordsFile))
	if err != nil {
		return nil, err
	}
	abl, awarns, err := readRecordsWarn(filepath.Join(dir, AblationFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	rep, err := WildReport(recs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	rep.Warnings = append(append(warns, awarns...), rep.Warnings...)
	if t := wildAblationTable(abl, rep.warnf); t != nil {
		rep.Tables = append(rep.Tables, *t)
	}
	return rep, nil
}
