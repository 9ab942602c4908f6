package inventory

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	// syft's RPM cataloger reads newer rpmdb.sqlite files through
	// database/sql; the syft CLI registers this pure-Go driver the same way.
	_ "modernc.org/sqlite"

	"github.com/anchore/stereoscope/pkg/file"
	"github.com/anchore/stereoscope/pkg/image"
	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source/stereoscopesource"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SyftModule is the module the SBOM comes from; its version is recorded in
// every verdict (SyftVersion, read from the build info).
const SyftModule = "github.com/anchore/syft"

// ExtraCatalogers are added to syft's default selection for images (the one
// `syft scan IMAGE` uses): lockfiles left in an image are evidence too. The
// syft CLI reproduces the selection with --select-catalogers +NAME.
var ExtraCatalogers = []string{"javascript-lock-cataloger"}

// SBOMConfig is syft's configuration for the baseline: the image defaults
// plus ExtraCatalogers, squashed scope (what the image's filesystem holds:
// Trivy and Clair drop packages a later layer deletes), no file digests or
// license text (the matching does not use them), and nothing fetched from
// the network (syft's remote lookups are off by default; kept off).
func SBOMConfig() *syft.CreateSBOMConfig {
	return syft.DefaultCreateSBOMConfig().
		WithTool("strata-inventory", Version).
		WithoutFiles().
		WithCatalogerSelection(cataloging.NewSelectionRequest().
			WithDefaults(pkgcataloging.ImageTag).
			WithAdditions(ExtraCatalogers...))
}

// BuildSBOM catalogs img with syft. stereoscope reads the image through
// go-containerregistry and indexes each layer's tar; files are read from
// those tars by offset and never extracted to the host, so a hostile path
// or link cannot reach outside the tar. The tars come from layers (a
// private cache under os.TempDir, removed before BuildSBOM returns, when
// nil): each layer is decompressed once, verified against its digest and
// diffID, and shared by every scan of an image that has it, so stereoscope
// finds it already unpacked and skips its own decompression. syft's own
// scratch space (nested archives) is a temporary directory it removes.
func BuildSBOM(ctx context.Context, img v1.Image, layers *LayerCache, cfg *syft.CreateSBOMConfig) (*sbom.SBOM, error) {
	if cfg == nil {
		cfg = SBOMConfig()
	}
	if layers == nil {
		c, done, err := tempLayerCache("")
		if err != nil {
			return nil, fmt.Errorf("sbom: %w", err)
		}
		defer done()
		layers = c
	}
	scan, err := layers.newScanDir()
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	defer scan.Close()
	if err := linkLayers(ctx, img, scan); err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	var meta []image.AdditionalMetadata
	if d, err := img.Digest(); err == nil {
		meta = append(meta, image.WithManifestDigest(d.String()))
	}
	if m, err := img.RawManifest(); err == nil {
		meta = append(meta, image.WithManifest(m))
	}
	tmp := file.NewTempDirGenerator("strata-inventory")
	simg := image.New(img, tmp, scan.dir, meta...)
	defer func() { _ = simg.Cleanup() }()
	if err := simg.Read(ctx); err != nil {
		return nil, fmt.Errorf("sbom: read image: %w", err)
	}
	ref := ""
	if len(meta) > 0 {
		ref = simg.Metadata.ManifestDigest
	}
	src := stereoscopesource.New(simg, stereoscopesource.ImageConfig{Reference: ref})
	lctx, err := licenseContext(cfg)
	if err != nil {
		return nil, err
	}
	s, err := syft.CreateSBOM(withValues(ctx, lctx), src, cfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sbom: %w", err), ctx.Err())
	}
	return s, nil
}

// linkLayers puts each tar layer of img into scan under the name
// stereoscope (v0.4.2, image.Layer.uncompressedCache) looks for before it
// decompresses a layer itself: "<index>-<diffID with - for :>". When the
// config does not list one diffID per layer, stereoscope computes its own
// names and decompresses the layers itself; so it does for media types
// that are not tars (SquashFS). A stereoscope that renamed its files would
// do the same: slower, never wrong (TestBuildSBOMReadsCachedLayers pins
// the fast path).
func linkLayers(ctx context.Context, img v1.Image, scan *scanDir) error {
	ls, err := img.Layers()
	if err != nil {
		return fmt.Errorf("layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if len(cf.RootFS.DiffIDs) != len(ls) {
		return nil
	}
	// Layers missing from the cache are decompressed side by side, as
	// stereoscope would (one per CPU).
	errs := make([]error, len(ls))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, l := range ls {
		mt, err := l.MediaType()
		if err != nil {
			return fmt.Errorf("layer %d: media type: %w", i, err)
		}
		if !tarMediaTypes[mt] {
			continue
		}
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
	return errors.Join(errs...)
}

// tarMediaTypes are the layer media types stereoscope reads as tars.
var tarMediaTypes = map[types.MediaType]bool{
	types.OCILayer: true, types.OCIUncompressedLayer: true, types.OCIRestrictedLayer: true,
	types.OCIUncompressedRestrictedLayer: true, types.OCILayerZStd: true, types.DockerLayer: true,
	types.DockerForeignLayer: true, types.DockerUncompressedLayer: true,
	image.BuildKitZstdCompressedLayer: true, image.BuildKitZstdCompressedLayerAlt: true,
}

// Building syft's license scanner compiles every license pattern (about
// 0.7 s of CPU); CreateSBOM reuses one found in its context, so it is built
// once per process and lent to each scan.
var (
	licenseOnce sync.Once
	licenseCtx  context.Context
	licenseErr  error
)

func licenseContext(cfg *syft.CreateSBOMConfig) (context.Context, error) {
	licenseOnce.Do(func() {
		licenseCtx, licenseErr = syft.SetContextLicenseScanner(context.Background(), cfg.Licenses)
	})
	if licenseErr != nil {
		return nil, fmt.Errorf("sbom: license scanner: %w", licenseErr)
	}
	return licenseCtx, nil
}

// valuesCtx is ctx (deadline, cancellation, values) with the values of
// extra where ctx has none.
type valuesCtx struct {
	context.Context
	extra context.Context
}

func withValues(ctx, extra context.Context) context.Context { return valuesCtx{ctx, extra} }

func (c valuesCtx) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.extra.Value(key)
}
