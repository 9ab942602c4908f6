package experiments

import (
	"context"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/drupal"
)

// Census is the benign-image census: ordinary images that nobody here
// wrote the content of, scanned by every detector, to count how often a
// scan of an ordinary image is "incomplete" (a limit was hit) or flagged.
// A scanner can only fail closed on incomplete scans if ordinary images
// never hit its limits.
const Census = "census"

func init() { Register(census{}) }

type census struct{}

func (census) Name() string { return Census }
func (census) Summary() string {
	return "ordinary images (postgres, redis, nginx, python, openjdk, gcc, the benign corpus, the bases): incomplete and flagged verdicts"
}
func (census) Flags() []string { return []string{FlagBenign, FlagDetectors} }

// Plan builds the census set and the benign corpus (both from corpus/benign,
// real Debian packages installed offline) and adds the two base images
// every other image is built FROM: the Debian minbase and the drupal
// web-app image. --benign NAMES keeps only those corpus/census names
// ("debian-base" and "web-app" name the bases).
func (census) Plan(ctx context.Context, env *Env) (*Plan, error) {
	keep := env.Config.Slice.keepsBenign
	images := filterImages(append(benign.CensusImages(), benign.Images()...), keep)
	bs, err := env.buildBenignImages(ctx, Census, images)
	if err != nil {
		return nil, err
	}
	var built []Built
	for _, b := range []struct {
		name, store string
		desc        v1.Descriptor
	}{{"debian-base", base.DebianName, env.Debian}, {"web-app", drupal.DefaultWebImage, env.Web}} {
		if !keep(b.name) {
			continue
		}
		img, err := env.Store.Image(b.desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("census: %s (%s): %w", b.name, b.store, err)
		}
		built = append(built, Built{Name: b.store, Case: b.name, Seed: env.Config.Seed, Descriptor: b.desc, Image: img, Cached: true})
	}
	for _, b := range bs {
		built = append(built, b.Built)
	}
	return &Plan{Built: len(built), Passes: []Pass{{File: RecordsFile, Experiment: Census, Images: built, Detectors: allDetectors}}}, nil
}

func (census) Report(dir string, _ Slice) (*Report, error) {
	return reportFile(filepath.Join(dir, RecordsFile), func(recs []Record) (*Report, error) {
		return benignReport(recs, Census, "Census of ordinary images: incomplete and flagged verdicts")
	})
}
