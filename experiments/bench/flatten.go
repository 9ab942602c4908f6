package bench

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/strata-sec/strata/internal/imageref"
)

// flattenedSuffix names the single-layer copy of a benched image.
const flattenedSuffix = " (flattened)"

// flattened writes t's final filesystem (mutate.Extract: whiteouts
// applied) as the one gzip layer of a new image, with t's config, to a
// temporary OCI layout and returns it read back from there (blob-backed,
// as stored images are), with a cleanup that removes the layout.
func flattened(t imageref.Target) (imageref.Target, func(), error) {
	dir, err := os.MkdirTemp("", "strata-bench-flat-")
	if err != nil {
		return imageref.Target{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	fail := func(err error) (imageref.Target, func(), error) {
		cleanup()
		return imageref.Target{}, nil, fmt.Errorf("flatten %s: %w", t.Name, err)
	}
	tarPath := dir + "/rootfs.tar"
	f, err := os.Create(tarPath)
	if err != nil {
		return fail(err)
	}
	rc := mutate.Extract(t.Image)
	_, err = f.ReadFrom(rc)
	rc.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	layer, err := tarball.LayerFromFile(tarPath)
	if err != nil {
		return fail(err)
	}
	cf, err := t.Image.ConfigFile()
	if err != nil {
		return fail(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs, cf.History = nil, nil
	img, err := mutate.ConfigFile(empty.Image, cf)
	if err != nil {
		return fail(err)
	}
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return fail(err)
	}
	p, err := layout.Write(dir+"/oci", empty.Index)
	if err != nil {
		return fail(err)
	}
	if err := p.AppendImage(img); err != nil {
		return fail(err)
	}
	os.Remove(tarPath)
	d, err := img.Digest()
	if err != nil {
		return fail(err)
	}
	back, err := p.Image(d)
	if err != nil {
		return fail(err)
	}
	return imageref.Target{Name: t.Name + flattenedSuffix, Image: back}, cleanup, nil
}
