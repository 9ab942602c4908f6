package census

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-sec/strata/corpus/debs"
)

// ErrIntegrity is wrapped when a download does not match the committed
// list: the list is the pre-registration, so the download is refused.
var ErrIntegrity = errors.New("download does not match the committed list (the archive changed: re-draw, or fetch from a snapshot)")

// Fetched is one subject's download in the cache.
type Fetched struct {
	Entry Entry
	// Path is the .deb (Debian, Python) or the npm install dir.
	Path string
	// Bytes is what the download added to the cache: the .deb's size, or
	// the install dir's size for npm. 0 when the cache already held it.
	Bytes int64
	// Cached is true when nothing was downloaded.
	Cached bool
}

// FetchDeb downloads e's .deb into dir with the machine's apt
// (`apt-get download NAME=VERSION`), verifies its SHA256 against the list
// and keeps it as dir/<sha256>.deb; an intact file there is not fetched
// again.
func FetchDeb(ctx context.Context, e Entry, dir string) (Fetched, error) {
	dst := filepath.Join(dir, e.SHA256+".deb")
	if sum, err := debs.FileSHA256(dst); err == nil && sum == e.SHA256 {
		return Fetched{Entry: e, Path: dst, Cached: true}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Fetched{}, err
	}
	tmp, err := os.MkdirTemp(dir, ".fetch-")
	if err != nil {
		return Fetched{}, err
	}
	defer os.RemoveAll(tmp)
	// Root downloads directly: the _apt sandbox user cannot write here.
	cmd := exec.CommandContext(ctx, "apt-get", "download", "--quiet", "-o", "APT::Sandbox::User=root", e.Name+"="+e.Version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Fetched{}, fmt.Errorf("apt-get download %s=%s (run apt-get update if the version is gone): %w\n%s", e.Name, e.Version, err, strings.TrimSpace(string(out)))
	}
	files, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(files) != 1 {
		return Fetched{}, fmt.Errorf("apt-get download %s=%s left %d .deb files, want 1", e.Name, e.Version, len(files))
	}
	sum, err := debs.FileSHA256(files[0])
	if err != nil {
		return Fetched{}, err
	}
	if sum != e.SHA256 {
		return Fetched{}, fmt.Errorf("%s %s: sha256 %s, list says %s: %w", e.Name, e.Version, sum, e.SHA256, ErrIntegrity)
	}
	fi, err := os.Stat(files[0])
	if err != nil {
		return Fetched{}, err
	}
	if err := os.Rename(files[0], dst); err != nil {
		return Fetched{}, err
	}
	return Fetched{Entry: e, Path: dst, Bytes: fi.Size()}, nil
}

// NPMDir is the install dir of an npm entry under dir.
func NPMDir(dir string, e Entry) string {
	return filepath.Join(dir, strings.ReplaceAll(e.Name, "/", "+")+"@"+e.Version)
}

// FetchNPM installs e with the machine's npm (NPMInstallFlags, so no
// install script runs) into its own dir under dir, and checks the
// lockfile's integrity of the package against the list. A dir with
// NPMMarker is complete and not installed again.
func FetchNPM(ctx context.Context, e Entry, dir string) (Fetched, error) {
	d := NPMDir(dir, e)
	if _, err := os.Stat(filepath.Join(d, NPMMarker)); err == nil {
		return Fetched{Entry: e, Path: d, Cached: true}, nil
	}
	if err := os.RemoveAll(d); err != nil {
		return Fetched{}, err
	}
	if err := npmProject(d); err != nil {
		return Fetched{}, err
	}
	if out, err := npm(ctx, d, e.Name+"@"+e.Version); err != nil {
		return Fetched{}, fmt.Errorf("npm install %s@%s: %w: %s", e.Name, e.Version, err, npmReason(out))
	}
	lock, err := readLock(filepath.Join(d, "package-lock.json"))
	if err != nil {
		return Fetched{}, err
	}
	if got := lock["node_modules/"+e.Name]; got.Integrity != e.Integrity || got.Version != e.Version {
		return Fetched{}, fmt.Errorf("npm %s@%s: lockfile has %s %s, list says %s: %w", e.Name, e.Version, got.Version, got.Integrity, e.Integrity, ErrIntegrity)
	}
	size, err := DirSize(d)
	if err != nil {
		return Fetched{}, err
	}
	if err := os.WriteFile(filepath.Join(d, NPMMarker), nil, 0o644); err != nil {
		return Fetched{}, err
	}
	return Fetched{Entry: e, Path: d, Bytes: size}, nil
}

// FetchAll fetches the entries, jobs at a time, into dir/<ecosystem>, and
// logs a progress line every few seconds and for every failure. It stops
// at the first error.
func FetchAll(ctx context.Context, entries []Entry, dir string, jobs int, log io.Writer) ([]Fetched, error) {
	out := make([]Fetched, len(entries))
	var (
		next, done, fetched atomic.Int64
		bytes               atomic.Int64
		mu                  sync.Mutex
		firstErr            error
		wg                  sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start, lastLog := time.Now(), time.Now()
	for range max(1, jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(entries) || ctx.Err() != nil {
					return
				}
				e := entries[i]
				var (
					f   Fetched
					err error
				)
				if e.Ecosystem == NPM {
					f, err = FetchNPM(ctx, e, filepath.Join(dir, NPM))
				} else {
					f, err = FetchDeb(ctx, e, filepath.Join(dir, "debs"))
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("fetch %s %s: %w", e.Ecosystem, e.Name, err)
					cancel()
				}
				out[i] = f
				n := done.Add(1)
				if !f.Cached {
					fetched.Add(1)
				}
				bytes.Add(f.Bytes)
				if time.Since(lastLog) > 5*time.Second || int(n) == len(entries) {
					lastLog = time.Now()
					fmt.Fprintf(log, "census: fetch %d/%d (%d downloaded, %.1f MB, %.0fs)\n", n, len(entries), fetched.Load(), float64(bytes.Load())/1e6, time.Since(start).Seconds())
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// DirSize sums the sizes of the regular files under dir.
func DirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}
