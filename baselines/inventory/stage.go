package inventory

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Staged is an image's layers, verified and decompressed, as the SBOM
// helper reads them: Dir holds one tar per layer, named as stereoscope
// (v0.4.2, image.Layer.uncompressedCache) looks for a layer it need not
// decompress, "<index>-<diffID with - for :>". Close removes Dir.
type Staged struct {
	Dir  string
	scan *scanDir
}

// Close removes the staged tars (the cache's entries stay).
func (s *Staged) Close() error { return s.scan.Close() }

// Stage puts each layer of img into a new scan directory of the cache:
// hard links to cache entries, filled (decompressed and verified against
// the layer's digest and the config's diffID) when missing, up to one
// layer per CPU at a time. An image whose config does not list one diffID
// per layer, or with a layer that is not a tar, cannot be staged.
func (c *LayerCache) Stage(ctx context.Context, img v1.Image) (*Staged, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(cf.RootFS.DiffIDs) != len(ls) {
		return nil, fmt.Errorf("config lists %d diffIDs for %d layers", len(cf.RootFS.DiffIDs), len(ls))
	}
	for i, l := range ls {
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("layer %d: media type: %w", i, err)
		}
		if !tarMediaTypes[mt] {
			return nil, fmt.Errorf("layer %d: media type %s is not a tar layer the inventory baseline reads", i, mt)
		}
	}
	scan, err := c.newScanDir()
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(ls))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, l := range ls {
		diffID := cf.RootFS.DiffIDs[i]
		name := fmt.Sprintf("%d-%s", i, strings.ReplaceAll(diffID.String(), ":", "-"))
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := scan.link(ctx, l, diffID, name); err != nil {
				errs[i] = fmt.Errorf("layer %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		scan.Close()
		return nil, err
	}
	return &Staged{Dir: scan.dir, scan: scan}, nil
}

// tarMediaTypes are the layer media types stereoscope reads as tars
// (BuildKit's zstd types spelled as stereoscope spells them).
var tarMediaTypes = map[types.MediaType]bool{
	types.OCILayer: true, types.OCIUncompressedLayer: true, types.OCIRestrictedLayer: true,
	types.OCIUncompressedRestrictedLayer: true, types.OCILayerZStd: true, types.DockerLayer: true,
	types.DockerForeignLayer: true, types.DockerUncompressedLayer: true,
	"application/vnd.docker.image.rootfs.diff.tar.zstd": true, "application/vnd.docker.image.rootfs.diff.tar+zstd": true,
}
