package census

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// LayerFile is an assembled layer: a gzip-compressed tar on disk.
type LayerFile struct {
	Path string
	// Size is the compressed size, DiffSize the tar's size.
	Size, DiffSize int64
}

// Deb is a downloaded .deb and the package it holds.
type Deb struct {
	Path    string
	Package string
}

// WriteDebLayer writes to dst the layer of the given packages: the files
// of each .deb's data.tar in archive order and its maintainer scripts
// (see addDeb), the packages in the order given.
func WriteDebLayer(dst string, debs []Deb) (LayerFile, error) {
	return writeLayer(dst, func(lw *layerWriter) error {
		for _, d := range debs {
			if err := lw.addDeb(d.Path, d.Package); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppDir is where an npm package is installed in its image: the working
// directory, as Node images usually have it.
const AppDir = "app"

// NPMMarker is the file Fetch writes into an npm install dir once the
// install is complete and verified; it is not part of the image.
const NPMMarker = ".strata-installed"

// WriteNPMLayer writes to dst the layer of an npm install dir (package.json,
// package-lock.json, node_modules) under /app: paths sorted, owner root,
// times set to epoch, permissions as installed.
func WriteNPMLayer(dst, installDir string, epoch time.Time) (LayerFile, error) {
	return writeLayer(dst, func(lw *layerWriter) error {
		if err := lw.add(&tar.Header{Name: AppDir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch, Uname: "root", Gname: "root"}, nil); err != nil {
			return err
		}
		return filepath.WalkDir(installDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(installDir, p)
			if err != nil || rel == "." || rel == NPMMarker {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			link := ""
			if fi.Mode()&fs.ModeSymlink != 0 {
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			}
			h, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			h.Name = AppDir + "/" + filepath.ToSlash(rel)
			h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname = epoch, 0, 0, "root", "root"
			if !fi.Mode().IsRegular() {
				return lw.add(h, nil)
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return lw.add(h, f)
		})
	})
}

func writeLayer(dst string, fill func(*layerWriter) error) (LayerFile, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return LayerFile{}, err
	}
	f, err := os.Create(dst)
	if err != nil {
		return LayerFile{}, err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	lw := newLayerWriter(zw)
	if err := fill(lw); err != nil {
		return LayerFile{}, fmt.Errorf("layer %s: %w", dst, err)
	}
	diff, err := lw.close()
	if err != nil {
		return LayerFile{}, err
	}
	if err := zw.Close(); err != nil {
		return LayerFile{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		return LayerFile{}, err
	}
	return LayerFile{Path: dst, Size: fi.Size(), DiffSize: diff}, f.Close()
}

// Assemble returns base plus the layer, with a history entry saying what
// the layer is (createdBy) dated epoch, and the config's WorkingDir set to
// workdir when it is not empty. Everything else of the config (Cmd, Env,
// ...) stays the base's: the census does not know a package's main
// executable.
func Assemble(base v1.Image, lf LayerFile, createdBy string, epoch time.Time, workdir string) (v1.Image, error) {
	l, err := tarball.LayerFromFile(lf.Path, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("open layer %s: %w", lf.Path, err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     l,
		MediaType: types.OCILayer,
		History:   v1.History{CreatedBy: createdBy, Created: v1.Time{Time: epoch}, Comment: "strata census: assembled with go-containerregistry"},
	})
	if err != nil {
		return nil, err
	}
	if workdir == "" {
		return img, nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg := cf.Config
	cfg.WorkingDir = workdir
	return mutate.Config(img, cfg)
}
