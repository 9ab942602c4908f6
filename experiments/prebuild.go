package experiments

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/dockerfile"
)

// Prebuild is the pre-build detector's verdict on the Dockerfile and
// build context an image was built from, taken when the image was built
// (a payload mutation's context is a temporary directory gone by the time
// the scan pass runs). An image mutation keeps its original's: the
// Dockerfile did not change, the image did after the build.
type Prebuild struct {
	Verdict detectors.Verdict
	Err     error
	Millis  int64
}

// prebuildScan runs the pre-build detector on a build's Dockerfile and
// context directory.
func prebuildScan(ctx context.Context, name string, df []byte, contextDir string) *Prebuild {
	t0 := time.Now()
	p := &Prebuild{}
	root, err := os.OpenRoot(contextDir)
	if err != nil {
		p.Err = fmt.Errorf("%s: open build context: %w", name, err)
		return p
	}
	defer root.Close()
	p.Verdict, p.Err = dockerfile.New().Scan(ctx, dockerfile.Input{Dockerfile: df, Path: "Dockerfile", Context: root.FS(), ContextPath: "."})
	p.Millis = time.Since(t0).Milliseconds()
	return p
}

// forImageMutation is p for an image rewritten after its build: the same
// verdict, without blamed layers (they index the original's layers).
func (p *Prebuild) forImageMutation() *Prebuild {
	if p == nil {
		return nil
	}
	q := *p
	q.Verdict.BlamedLayers = nil
	return &q
}

// prebuildDetector puts the pre-build detector among an experiment's
// detectors: it reports the verdict taken at build time (Built.Prebuild)
// and skips images not built from a Dockerfile here.
type prebuildDetector struct{}

func (prebuildDetector) Name() string    { return dockerfile.Name }
func (prebuildDetector) Version() string { return dockerfile.Version }

// Scan cannot judge an image: the detector reads Dockerfiles.
func (prebuildDetector) Scan(context.Context, v1.Image) (detectors.Verdict, error) {
	return detectors.Verdict{}, fmt.Errorf("the %s detector reads a Dockerfile, not an image: scan Built values (experiments.Scan)", dockerfile.Name)
}

func (prebuildDetector) applies(b Built) bool { return b.Prebuild != nil }

// scanBuilt returns the build-time verdict with its blamed layers moved
// from the Dockerfile's own layers to the image's (above its base).
func (prebuildDetector) scanBuilt(b Built, imageLayers int) (detectors.Verdict, int64, error) {
	p := b.Prebuild
	if p == nil {
		return detectors.Verdict{}, 0, fmt.Errorf("%s has no Dockerfile for the %s detector", b.Name, dockerfile.Name)
	}
	if p.Err != nil {
		return detectors.Verdict{}, p.Millis, p.Err
	}
	v := p.Verdict
	n, err := strconv.Atoi(v.Info["dockerfile_layers"])
	if off := imageLayers - n; err == nil && off >= 0 && len(v.BlamedLayers) > 0 {
		bl := make([]int, len(v.BlamedLayers))
		for i, l := range v.BlamedLayers {
			bl[i] = l + off
		}
		v.BlamedLayers = bl
	} else {
		v.BlamedLayers = nil
	}
	return v, p.Millis, nil
}

// builtScanner is a detector that judges a Built rather than its image;
// applies says which images it has something to say about.
type builtScanner interface {
	applies(b Built) bool
	scanBuilt(b Built, imageLayers int) (detectors.Verdict, int64, error)
}
