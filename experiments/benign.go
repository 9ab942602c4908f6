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

// RunBenign builds the corpus/benign images (packages fetched with the
// host's apt against the dpkg status of the image each is built FROM),
// learns the signature baselines from the exp1 first sighting (case 111)
// and appends one record per (image, detector) to
// <results>/benign/records.jsonl. Every image is labelled benign.
func RunBenign(ctx context.Context, cfg Config) error {
	env, err := Prepare(ctx, cfg)
	if err != nil {
		return err
	}
	defer env.Close()
	cfg = env.Config
	logf := func(format string, a ...any) { fmt.Fprintf(cfg.Log, format+"\n", a...) }

	bs, err := env.buildBenign(ctx, func(string) bool { return true })
	if err != nil {
		return err
	}
	built := make([]Built, len(bs))
	for i, b := range bs {
		built[i] = b.Built
	}
	if cfg.BuildOnly {
		logf("benign: %d images in the store; --build-only, nothing scanned", len(built))
		return nil
	}

	cases, err := env.BuildCases(ctx)
	if err != nil {
		return err
	}
	resDir := filepath.Join(cfg.ResultsDir, Benign)
	set, err := Detectors(ctx, cfg, cases["111"], resDir)
	if err != nil {
		return err
	}
	defer set.Close()
	dets := set.Detectors
	return scanAll(ctx, cfg, Benign, built, dets, filepath.Join(resDir, "records.jsonl"))
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
