package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
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
// go-containerregistry (the store's blobs are read in place, not copied):
// each layer is decompressed into one tar file under tempDir and indexed;
// files are read from those tars by offset and never extracted to the host,
// so a hostile path or link cannot reach outside the tar. Everything written
// under tempDir is removed before BuildSBOM returns; syft's own scratch
// space (nested archives) is a temporary directory it removes itself.
func BuildSBOM(ctx context.Context, img v1.Image, tempDir string, cfg *syft.CreateSBOMConfig) (*sbom.SBOM, error) {
	if cfg == nil {
		cfg = SBOMConfig()
	}
	cacheDir, err := os.MkdirTemp(tempDir, "inventory-layers-")
	if err != nil {
		return nil, fmt.Errorf("sbom: layer cache dir: %w (set --cache-dir or TMPDIR to a writable directory)", err)
	}
	defer os.RemoveAll(cacheDir)
	var meta []image.AdditionalMetadata
	if d, err := img.Digest(); err == nil {
		meta = append(meta, image.WithManifestDigest(d.String()))
	}
	if m, err := img.RawManifest(); err == nil {
		meta = append(meta, image.WithManifest(m))
	}
	tmp := file.NewTempDirGenerator("strata-inventory")
	simg := image.New(img, tmp, cacheDir, meta...)
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
