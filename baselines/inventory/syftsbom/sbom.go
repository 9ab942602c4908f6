package syftsbom

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
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
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source/stereoscopesource"

	"github.com/strata-sec/strata/baselines/inventory"
)

// SyftModule is the module the SBOM comes from.
const SyftModule = "github.com/anchore/syft"

// SyftVersion is the syft module version linked into this binary.
func SyftVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == SyftModule {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return "unknown"
}

// SBOMConfig is syft's configuration for the baseline: the image defaults
// plus inventory.ExtraCatalogers, squashed scope (what the image's
// filesystem holds: Trivy and Clair drop packages a later layer deletes),
// no file digests or license text (the matching does not use them), and
// nothing fetched from the network (syft's remote lookups are off by
// default; kept off).
func SBOMConfig() *syft.CreateSBOMConfig {
	return syft.DefaultCreateSBOMConfig().
		WithTool("strata-inventory", inventory.Version).
		WithoutFiles().
		WithCatalogerSelection(cataloging.NewSelectionRequest().
			WithDefaults(pkgcataloging.ImageTag).
			WithAdditions(inventory.ExtraCatalogers...))
}

// BuildSBOM catalogs the image whose raw manifest and config are given and
// whose uncompressed layer tars strata staged in dir (inventory.Staged).
// stereoscope indexes each tar and reads files from it by offset, never
// extracting to the host, so a hostile path or link cannot reach outside
// the tar; syft's own scratch space (nested archives) is a temporary
// directory it removes.
func BuildSBOM(ctx context.Context, manifest, config []byte, dir string, cfg *syft.CreateSBOMConfig) (*sbom.SBOM, error) {
	if cfg == nil {
		cfg = SBOMConfig()
	}
	img, err := stagedImage(manifest, config)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	tmp := file.NewTempDirGenerator("strata-inventory")
	defer func() { _ = tmp.Cleanup() }()
	simg := image.New(img, tmp, dir, image.WithManifest(manifest), image.WithConfig(config))
	defer func() { _ = simg.Cleanup() }()
	if err := simg.Read(ctx); err != nil {
		return nil, fmt.Errorf("sbom: read image: %w", err)
	}
	src := stereoscopesource.New(simg, stereoscopesource.ImageConfig{Reference: simg.Metadata.ManifestDigest})
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

// ecosystemOf maps syft's package types to the list's ecosystems.
var ecosystemOf = map[pkg.Type]string{
	pkg.DebPkg:      inventory.EcoDeb,
	pkg.ApkPkg:      inventory.EcoAPK,
	pkg.NpmPkg:      inventory.EcoNPM,
	pkg.PythonPkg:   inventory.EcoPyPI,
	pkg.GoModulePkg: inventory.EcoGo,
	pkg.JavaPkg:     inventory.EcoMaven,
	pkg.BinaryPkg:   inventory.EcoBinary,
}

// Packages flattens s into the baseline's packages, sorted by type, name,
// version (then found-by and locations); each location names the layer
// (diffID) syft found the file in.
func Packages(s *sbom.SBOM) []inventory.Package {
	var out []inventory.Package
	for p := range s.Artifacts.Packages.Enumerate() {
		q := inventory.Package{Ecosystem: ecosystemOf[p.Type], Type: string(p.Type), Name: p.Name, Version: p.Version, FoundBy: p.FoundBy}
		for _, l := range p.Locations.ToSlice() {
			q.Locations = append(q.Locations, inventory.Location{Path: l.RealPath, DiffID: l.FileSystemID})
		}
		out = append(out, q)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Type != out[b].Type {
			return out[a].Type < out[b].Type
		}
		if out[a].Name != out[b].Name {
			return out[a].Name < out[b].Name
		}
		if out[a].Version != out[b].Version {
			return out[a].Version < out[b].Version
		}
		return tieKey(out[a]) < tieKey(out[b])
	})
	return out
}

// tieKey orders packages of one type, name and version (a Go module in
// two binaries) by what else tells them apart, so that the order does not
// follow syft's map iteration and an SBOM made twice is the same.
func tieKey(p inventory.Package) string {
	var b strings.Builder
	b.WriteString(p.FoundBy)
	for _, l := range p.Locations {
		b.WriteString("\x00" + l.Path + "\x00" + l.DiffID)
	}
	return b.String()
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
