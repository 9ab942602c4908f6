package census

import (
	"archive/tar"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// The canaries' content (all: keeps __init__.py, which a plain embed
// pattern leaves out): inert miner stand-ins written here (canaries/,
// see its README), never downloaded.
//
//go:embed all:canaries
var canaryFS embed.FS

// Canary is a positive control of the census: an image assembled exactly
// the way a census subject of its ecosystem is (a .deb's files and
// maintainer scripts; an npm install under /app; a python3-* .deb whose
// modules land in dist-packages) but carrying miner content. Canaries are
// never census subjects: they are scanned into a file of their own and
// never counted in a false-positive rate. A census run whose detector
// does not flag them cannot tell "no false alarm" from "saw nothing".
type Canary struct {
	// Name is the package's name, and its directory under canaries/.
	Name      string
	Ecosystem string
	// Version is the package version the image says it holds.
	Version string
	// Carries says what miner content the canary holds.
	Carries string
}

// Canaries are the census's positive controls, one per list ecosystem.
var Canaries = []Canary{
	{Name: "sysmon-agent", Ecosystem: Debian, Version: "2.4.1-1",
		Carries: "an XMRig-style config.json (stratum pool, wallet, donate-level 0), a systemd unit that restarts the miner, a postinst setting hugepages and the msr module"},
	{Name: "python3-sysmetrics", Ecosystem: Python, Version: "0.9.2-1",
		Carries: "a dist-packages module with a stratum+tcp pool and a wallet, started from a .pth file at interpreter start"},
	{Name: "perf-hooks-lite", Ecosystem: NPM, Version: "3.2.0",
		Carries: "an npm package depending on the coin-hive miner library, with a stratum client config and a postinstall script"},
}

// CanaryImageName is the store name of a canary's image.
func CanaryImageName(c Canary) string { return "census/canary/" + c.Ecosystem + "/" + c.Name }

// WriteCanaryLayer writes the canary's layer to dst the census's way: for
// Debian and Python a .deb is built from canaries/<name> (control,
// maintainer scripts, data/) under work and written with WriteDebLayer;
// for npm canaries/<name>/app is copied under work as an install dir and
// written with WriteNPMLayer. It returns the layer and, as for a census
// subject, the history's created_by and the image's working directory.
func WriteCanaryLayer(dst, work string, c Canary, epoch time.Time) (lf LayerFile, createdBy, workdir string, err error) {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return LayerFile{}, "", "", err
	}
	root := "canaries/" + c.Name
	if c.Ecosystem == NPM {
		dir := filepath.Join(work, c.Name+"@"+c.Version)
		if err := os.RemoveAll(dir); err != nil {
			return LayerFile{}, "", "", err
		}
		if err := copyCanary(root+"/app", dir); err != nil {
			return LayerFile{}, "", "", err
		}
		lf, err = WriteNPMLayer(dst, dir, epoch)
		return lf, fmt.Sprintf("strata census canary: npm package %s@%s installed into /%s (node_modules, package.json, package-lock.json)", c.Name, c.Version, AppDir), "/" + AppDir, err
	}
	deb := filepath.Join(work, c.Name+"_"+c.Version+"_all.deb")
	if err := buildDeb(deb, root, epoch); err != nil {
		return LayerFile{}, "", "", fmt.Errorf("canary %s: %w", c.Name, err)
	}
	lf, err = WriteDebLayer(dst, []Deb{{Path: deb, Package: c.Name}})
	return lf, fmt.Sprintf("strata census canary: Debian package %s %s (all): files of the .deb and its maintainer scripts", c.Name, c.Version), "", err
}

// canaryMode is the mode a canary file gets (embed keeps none): scripts
// and programs are executable.
func canaryMode(name string) int64 {
	base := path.Base(name)
	if strings.Contains(name, "/bin/") || strings.HasPrefix(name, "bin/") || slices.Contains(MaintainerScripts, base) && !strings.Contains(name, "/") {
		return 0o755
	}
	return 0o644
}

// copyCanary copies the embedded tree at root into dir.
func copyCanary(root, dir string) error {
	return fs.WalkDir(canaryFS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := canaryFS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, fs.FileMode(canaryMode(rel)))
	})
}

// buildDeb writes a .deb (ar: debian-binary, control.tar.gz, data.tar.gz)
// from the embedded tree at root: its control file and maintainer scripts
// go into control.tar, data/ into data.tar, every entry owned by root and
// dated epoch.
func buildDeb(dst, root string, epoch time.Time) error {
	control, err := tarGz(func(tw *tar.Writer) error {
		for _, name := range append([]string{"control"}, MaintainerScripts...) {
			b, err := canaryFS.ReadFile(root + "/" + name)
			if err != nil {
				continue
			}
			if err := writeTarFile(tw, "./"+name, b, canaryMode(name), epoch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	data, err := tarGz(func(tw *tar.Writer) error {
		return fs.WalkDir(canaryFS, root+"/data", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel := "." + strings.TrimPrefix(p, root+"/data")
			if d.IsDir() {
				return tw.WriteHeader(&tar.Header{Name: rel + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch, Uname: "root", Gname: "root"})
			}
			b, err := canaryFS.ReadFile(p)
			if err != nil {
				return err
			}
			return writeTarFile(tw, rel, b, canaryMode(strings.TrimPrefix(rel, "./")), epoch)
		})
	})
	if err != nil {
		return err
	}
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		b    []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", control}, {"data.tar.gz", data}} {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, epoch.Unix(), 0, 0, "100644", len(m.b))
		ar.Write(m.b)
		if len(m.b)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, ar.Bytes(), 0o644)
}

func tarGz(fill func(*tar.Writer) error) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	if err := fill(tw); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeTarFile(tw *tar.Writer, name string, b []byte, mode int64, epoch time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(b)), ModTime: epoch, Uname: "root", Gname: "root"}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}
