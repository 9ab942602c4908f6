package experiments

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/debs"
	"github.com/strata-sec/strata/corpus/drupal"
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

	if err := benign.WriteServed(filepath.Join(env.tmp, "served")); err != nil {
		return fmt.Errorf("benign: served files: %w", err)
	}
	statuses := map[string]string{}
	for _, b := range []struct {
		from, file string
		digest     v1.Hash
	}{{benign.FromDebian, "debian", env.Debian.Digest}, {benign.FromDrupal, "drupal", env.Web.Digest}} {
		from, digest := b.from, b.digest
		img, err := env.Store.Image(digest)
		if err != nil {
			return err
		}
		status, err := base.ReadFile(img, "var/lib/dpkg/status", 64<<20)
		if err != nil {
			return fmt.Errorf("read dpkg status of %s: %w", from, err)
		}
		p := filepath.Join(env.tmp, "benign-dpkg-status-"+b.file)
		if err := os.WriteFile(p, status, 0o644); err != nil {
			return err
		}
		statuses[from] = p
	}

	images := benign.Images()
	built := make([]Built, 0, len(images))
	for i, im := range images {
		from := im.From
		statusFile, ok := statuses[from]
		if !ok {
			return fmt.Errorf("benign %s: unknown FROM %q", im.Name, from)
		}
		debsDir := filepath.Join(cfg.CacheDir, "debs", "benign", im.Name)
		if len(im.Packages) > 0 {
			t0 := time.Now()
			if err := debs.Fetch(ctx, statusFile, debsDir, im.Packages); err != nil {
				return fmt.Errorf("benign %s: %w", im.Name, err)
			}
			logf("benign: %s: packages ready (%.1fs)", im.Name, time.Since(t0).Seconds())
		}
		ctxDir := filepath.Join(env.tmp, "benign-context", im.Name)
		if err := im.WriteContext(ctxDir, debsDir); err != nil {
			return err
		}
		ctxKey, err := hashTree(ctxDir)
		if err != nil {
			return err
		}
		df, err := im.Dockerfile(benign.Options{ServerURL: env.Server.URL})
		if err != nil {
			return err
		}
		specFrom := drupal.DefaultWebImage
		if from == benign.FromDebian {
			specFrom = base.DebianName
		}
		t0 := time.Now()
		b, err := env.Build(ctx, BuildSpec{
			Name: BenignName(im), Case: im.Name, Seed: cfg.Seed,
			Dockerfile: df, Experiment: Benign,
			ContextDir: ctxDir, ContextKey: ctxKey, From: specFrom,
		})
		if err != nil {
			return err
		}
		if b.Truth.Malicious() {
			return fmt.Errorf("benign %s: ground truth says malicious (%v): a benign Dockerfile must carry no marker", im.Name, b.Truth.MaliciousLayers)
		}
		how := "built"
		if b.Cached {
			how = "cached"
		}
		logf("[%d/%d] %s %s %s in %.1fs", i+1, len(images), how, b.Name, b.Descriptor.Digest.String()[:19], time.Since(t0).Seconds())
		built = append(built, b)
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
	dets, closeDets, err := Detectors(cfg, cases["111"], resDir)
	if err != nil {
		return err
	}
	defer closeDets()
	return scanAll(ctx, cfg, Benign, built, dets, filepath.Join(resDir, "records.jsonl"))
}
