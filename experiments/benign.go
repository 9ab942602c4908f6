package experiments

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/corpus/benign"
)

// Benign is the benign-corpus experiment: realistic benign images (Debian's
// monero daemon, crypto libraries, curl|sh installers, cron jobs, ...)
// scanned by every detector to measure false positives.
const Benign = "benign"

// BenignName is the store name of one benign image.
func BenignName(im benign.Image) string { return "benign/" + im.Name }

func init() { Register(benignExperiment{}) }

type benignExperiment struct{}

func (benignExperiment) Name() string { return Benign }
func (benignExperiment) Summary() string {
	return "realistic benign images (monero daemon, crypto libraries, curl|sh installers, ...) for false positives"
}
func (benignExperiment) Flags() []string { return []string{FlagBenign, FlagDetectors} }

// Plan builds the corpus/benign images of the slice (packages fetched with
// the host's apt against the dpkg status of the image each is built FROM).
// Every image is labelled benign.
func (benignExperiment) Plan(ctx context.Context, env *Env) (*Plan, error) {
	bs, err := env.buildBenign(ctx, env.Config.Slice.keepsBenign)
	if err != nil {
		return nil, err
	}
	built := make([]Built, len(bs))
	for i, b := range bs {
		built[i] = b.Built
	}
	return &Plan{Built: len(built), Passes: []Pass{{File: RecordsFile, Experiment: Benign, Images: built, Detectors: allDetectors}}}, nil
}

func (benignExperiment) Report(dir string, _ Slice) (*Report, error) {
	return BenignReportFile(filepath.Join(dir, RecordsFile))
}

// dpkgStatuses writes the dpkg status of each image a benign image can be
// built FROM into temp files, keyed by benign.FromDebian / FromDrupal:
// packages are resolved against what is already installed.
func (e *Env) dpkgStatuses() (map[string]string, error) {
	statuses := map[string]string{}
	for _, b := range []struct {
		from, file string
		digest     v1.Hash
	}{{benign.FromDebian, "debian", e.Debian.Digest}, {benign.FromDrupal, "drupal", e.Web.Digest}} {
		img, err := e.Store.Image(b.digest)
		if err != nil {
			return nil, err
		}
		status, err := base.ReadFile(img, "var/lib/dpkg/status", 64<<20)
		if err != nil {
			return nil, fmt.Errorf("read dpkg status of %s: %w", b.from, err)
		}
		p := filepath.Join(e.tmp, "benign-dpkg-status-"+b.file)
		if err := os.WriteFile(p, status, 0o644); err != nil {
			return nil, err
		}
		statuses[b.from] = p
	}
	return statuses, nil
}
