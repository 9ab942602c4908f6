package debs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// ManifestFile is the manifest's name inside the destination directory.
const ManifestFile = "manifest.json"

// manifestVersion changes when the manifest's meaning changes, which makes
// every existing destination stale.
const manifestVersion = 1

// ErrApt is wrapped by Fetch when apt-get fails. The usual cause on a fresh
// machine is missing package lists: run `apt-get update` once on the host.
var ErrApt = errors.New("apt-get failed (the host's package lists are needed: run `apt-get update` once on this host)")

// Manifest records one Fetch: its inputs and the packages it produced.
type Manifest struct {
	Version int `json:"version"`
	// StatusSHA256 is the sha256 of the dpkg status file the closure was
	// resolved against.
	StatusSHA256 string `json:"status_sha256"`
	// Requested holds the requested package names, sorted and deduplicated.
	Requested []string `json:"requested"`
	// Debs is the closure, sorted by name then architecture.
	Debs []Deb `json:"debs"`
}

// Deb is one downloaded package file.
type Deb struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	File         string `json:"file"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("read manifest %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return m, nil
}

// Fetch downloads into destDir the .deb files needed to install pkgs, with
// their dependencies but without recommends, on a system whose dpkg state is
// dpkgStatus (for an image: its rootfs's /var/lib/dpkg/status). Packages the
// status already lists at the candidate version are not fetched; newer
// candidates are (dpkg -i then upgrades them).
//
// It runs the host's apt-get with the host's sources and package lists, so
// the host must run the target's Debian release and have run apt-get update.
// destDir then holds exactly the closure's .deb files and ManifestFile. When
// destDir already has a manifest for the same status file and package list
// whose files are all present and intact, Fetch does nothing.
func Fetch(ctx context.Context, dpkgStatus, destDir string, pkgs []string) error {
	if len(pkgs) == 0 {
		return errors.New("fetch debs: no packages requested")
	}
	statusSum, err := FileSHA256(dpkgStatus)
	if err != nil {
		return fmt.Errorf("fetch debs: dpkg status: %w", err)
	}
	requested := slices.Compact(slices.Sorted(slices.Values(pkgs)))
	if m, err := ReadManifest(destDir); err == nil && m.Version == manifestVersion &&
		m.StatusSHA256 == statusSum && slices.Equal(m.Requested, requested) && verify(destDir, m) == nil {
		return nil
	}

	// Download into a fresh sibling directory and swap it in at the end, so
	// destDir never mixes packages from different inputs and a failed run
	// leaves the previous result intact.
	parent := filepath.Dir(filepath.Clean(destDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(destDir)+".tmp-")
	if err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := os.Mkdir(filepath.Join(stage, "partial"), 0o755); err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	absStatus, err := filepath.Abs(dpkgStatus)
	if err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	args := []string{
		"install", "--download-only", "--no-install-recommends", "--yes", "--quiet",
		"-o", "Dir::State::status=" + absStatus,
		"-o", "Dir::Cache::archives=" + stage,
		// Root downloads directly: the _apt sandbox user cannot write into
		// a private temporary directory.
		"-o", "APT::Sandbox::User=root",
		"--",
	}
	args = append(args, requested...)
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("fetch debs: apt-get %s: %w: %w\n%s", strings.Join(args, " "), ErrApt, err, lastLines(out.String(), 20))
	}

	m := Manifest{Version: manifestVersion, StatusSHA256: statusSum, Requested: requested}
	files, err := filepath.Glob(filepath.Join(stage, "*.deb"))
	if err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	for _, f := range files {
		d, err := describe(f)
		if err != nil {
			return fmt.Errorf("fetch debs: %w", err)
		}
		m.Debs = append(m.Debs, d)
	}
	sort.Slice(m.Debs, func(i, j int) bool {
		a, b := m.Debs[i], m.Debs[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Architecture < b.Architecture
	})
	// apt's own bookkeeping in the archives directory is not part of the result.
	for _, junk := range []string{"lock", "partial"} {
		if err := os.RemoveAll(filepath.Join(stage, junk)); err != nil {
			return fmt.Errorf("fetch debs: %w", err)
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stage, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return fmt.Errorf("fetch debs: %w", err)
	}
	if err := os.RemoveAll(destDir); err != nil {
		return fmt.Errorf("fetch debs: replace %s: %w", destDir, err)
	}
	if err := os.Rename(stage, destDir); err != nil {
		return fmt.Errorf("fetch debs: replace %s: %w", destDir, err)
	}
	return nil
}

// describe reads name, version and architecture from apt's archive file
// name (name_version_arch.deb, with the epoch colon escaped as %3a) and
// hashes the file.
func describe(path string) (Deb, error) {
	base := filepath.Base(path)
	parts := strings.Split(strings.TrimSuffix(base, ".deb"), "_")
	if len(parts) != 3 {
		return Deb{}, fmt.Errorf("unexpected package file name %q", base)
	}
	version, err := url.PathUnescape(parts[1])
	if err != nil {
		return Deb{}, fmt.Errorf("package file name %q: %w", base, err)
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return Deb{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return Deb{}, err
	}
	return Deb{Name: parts[0], Version: version, Architecture: parts[2], File: base, Size: st.Size(), SHA256: sum}, nil
}

// verify checks that dir holds exactly m's files, intact.
func verify(dir string, m Manifest) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil {
		return err
	}
	if len(files) != len(m.Debs) {
		return fmt.Errorf("%s: %d .deb files, manifest lists %d", dir, len(files), len(m.Debs))
	}
	for _, d := range m.Debs {
		p := filepath.Join(dir, d.File)
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Size() != d.Size {
			return fmt.Errorf("%s: size %d, manifest says %d", p, st.Size(), d.Size)
		}
		sum, err := FileSHA256(p)
		if err != nil {
			return err
		}
		if sum != d.SHA256 {
			return fmt.Errorf("%s: sha256 %s, manifest says %s", p, sum, d.SHA256)
		}
	}
	return nil
}

// FileSHA256 is the hex sha256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
