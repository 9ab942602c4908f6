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

// ErrGone is wrapped when apt no longer offers a pinned NAME=VERSION.
var ErrGone = errors.New("the pinned version is not in the machine's package index")

// goneHelp says what to do when a pinned version cannot be downloaded.
const goneHelp = "what to do: run `apt-get update` (a machine without package lists offers nothing); " +
	"if the version is still missing, the archive dropped it (a point release or a security update replaced it): " +
	"point apt at a snapshot of the Debian archive as of the draw (corpus/census/draw.txt records the index's sha256), " +
	"or re-draw with `strata census draw` and commit the new lists as a new pre-registration before anything is scanned with them"

// DebBatch is how many NAME=VERSION one `apt-get download` call fetches:
// one call per package spends most of its time starting apt (about 1
// package a second); 40 at a time fetch about 4 a second.
const DebBatch = 40

// debPath is where an entry's .deb is kept in the cache dir.
func debPath(dir string, e Entry) string { return filepath.Join(dir, e.SHA256+".deb") }

// cachedDeb reports whether dir holds e's .deb, intact.
func cachedDeb(dir string, e Entry) bool {
	sum, err := debs.FileSHA256(debPath(dir, e))
	return err == nil && sum == e.SHA256
}

// FetchDeb downloads e's .deb into dir with the machine's apt
// (`apt-get download NAME=VERSION`), verifies its SHA256 against the list
// and keeps it as dir/<sha256>.deb; an intact file there is not fetched
// again.
func FetchDeb(ctx context.Context, e Entry, dir string) (Fetched, error) {
	out, err := FetchDebs(ctx, []Entry{e}, dir)
	if err != nil {
		return Fetched{}, err
	}
	return out[0], nil
}

// FetchDebs downloads the entries' .debs into dir with as few
// `apt-get download NAME=VERSION ...` calls as it can: one for the batch,
// then, for any entry that call did not deliver, one call of its own, so
// the error names the package and says what to do. Every file is checked
// against the list's SHA256 and moved into the cache as soon as it is, so
// an interrupted batch is not fetched again. Entries already cached are
// returned with Cached set.
func FetchDebs(ctx context.Context, es []Entry, dir string) ([]Fetched, error) {
	out := make([]Fetched, len(es))
	var missing []int
	for i, e := range es {
		if cachedDeb(dir, e) {
			out[i] = Fetched{Entry: e, Path: debPath(dir, e), Cached: true}
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	batchErr := aptDownload(ctx, es, missing, dir, out)
	if batchErr == nil || len(missing) == 1 {
		return out, batchErr
	}
	if errors.Is(batchErr, ErrIntegrity) || ctx.Err() != nil {
		return nil, batchErr
	}
	// The batch failed as a whole (apt stops at the first version it
	// cannot find): ask for what is still missing one at a time.
	for _, i := range missing {
		if out[i].Path != "" {
			continue
		}
		if err := aptDownload(ctx, es, []int{i}, dir, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// aptDownload runs one `apt-get download` for es[idx...] in a temp dir
// under dir, verifies what it left and fills out for each entry it
// delivered. It returns apt's error (with what to do) or an integrity
// error.
func aptDownload(ctx context.Context, es []Entry, idx []int, dir string, out []Fetched) error {
	tmp, err := os.MkdirTemp(dir, ".fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Root downloads directly: the _apt sandbox user cannot write here.
	args := []string{"download", "--quiet", "-o", "APT::Sandbox::User=root"}
	bySum := map[string]int{}
	for _, i := range idx {
		args = append(args, es[i].Name+"="+es[i].Version)
		bySum[es[i].SHA256] = i
	}
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	aptOut, runErr := cmd.CombinedOutput()
	files, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	var integrity error
	for _, f := range files {
		sum, err := debs.FileSHA256(f)
		if err != nil {
			return err
		}
		i, ok := bySum[sum]
		switch {
		case ok:
		case integrity != nil:
			continue
		case len(idx) == 1:
			e := es[idx[0]]
			integrity = fmt.Errorf("%s %s: sha256 %s, list says %s: %w", e.Name, e.Version, sum, e.SHA256, ErrIntegrity)
			continue
		default:
			integrity = fmt.Errorf("apt-get download left %s (sha256 %s), which matches no pinned NAME=VERSION it was asked for: %w", filepath.Base(f), sum, ErrIntegrity)
			continue
		}
		fi, err := os.Stat(f)
		if err != nil {
			return err
		}
		if err := os.Rename(f, debPath(dir, es[i])); err != nil {
			return err
		}
		out[i] = Fetched{Entry: es[i], Path: debPath(dir, es[i]), Bytes: fi.Size()}
	}
	if integrity != nil {
		return integrity
	}
	if runErr != nil {
		return aptError(es, idx, runErr, aptOut)
	}
	for _, i := range idx {
		if e := es[i]; out[i].Path == "" {
			return fmt.Errorf("apt-get download %s=%s succeeded but left no .deb with the list's sha256 %s: %w", e.Name, e.Version, e.SHA256, ErrIntegrity)
		}
	}
	return nil
}

// aptError explains a failed `apt-get download`: a version apt does not
// offer is ErrGone with what to do.
func aptError(es []Entry, idx []int, err error, out []byte) error {
	msg := strings.TrimSpace(string(out))
	what := es[idx[0]].Name + "=" + es[idx[0]].Version
	if len(idx) > 1 {
		what = fmt.Sprintf("%d packages (%s ...)", len(idx), what)
	}
	if strings.Contains(msg, "was not found") || strings.Contains(msg, "Unable to locate package") || strings.Contains(msg, "Can't select") {
		return fmt.Errorf("apt-get download %s: %w: %v\n%s\n%s", what, ErrGone, err, msg, goneHelp)
	}
	return fmt.Errorf("apt-get download %s: %w\n%s\n(if apt cannot reach its sources or has no package lists, run `apt-get update`)", what, err, msg)
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

// FetchAll fetches the entries, jobs at a time, into dir/debs (Debian and
// Python: batches of DebBatch per `apt-get download`) and dir/npm (one
// install each), and logs a progress line every few seconds. It stops at
// the first error; what was fetched before it stays cached, so a rerun
// resumes.
func FetchAll(ctx context.Context, entries []Entry, dir string, jobs int, log io.Writer) ([]Fetched, error) {
	out := make([]Fetched, len(entries))
	// The work: batches of .debs not yet cached, npm entries one by one.
	debDir := filepath.Join(dir, "debs")
	var (
		work    [][]int
		pending []int
	)
	for i, e := range entries {
		switch {
		case e.Ecosystem == NPM:
			work = append(work, []int{i})
		case cachedDeb(debDir, e):
			out[i] = Fetched{Entry: e, Path: debPath(debDir, e), Cached: true}
		default:
			pending = append(pending, i)
		}
	}
	for len(pending) > 0 {
		n := min(DebBatch, len(pending))
		work = append(work, pending[:n])
		pending = pending[n:]
	}
	var (
		next          atomic.Int64
		done, fetched int
		bytes         int64
		mu            sync.Mutex
		firstErr      error
		wg            sync.WaitGroup
	)
	done = len(entries)
	for _, w := range work {
		done -= len(w)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start, lastLog := time.Now(), time.Now()
	for range max(1, jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= len(work) || ctx.Err() != nil {
					return
				}
				idx := work[j]
				var (
					fs  []Fetched
					err error
				)
				if e := entries[idx[0]]; e.Ecosystem == NPM {
					var f Fetched
					f, err = FetchNPM(ctx, e, filepath.Join(dir, NPM))
					fs = []Fetched{f}
				} else {
					batch := make([]Entry, len(idx))
					for k, i := range idx {
						batch[k] = entries[i]
					}
					fs, err = FetchDebs(ctx, batch, debDir)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					e := entries[idx[0]]
					firstErr = fmt.Errorf("fetch %s %s: %w", e.Ecosystem, e.Name, err)
					if len(idx) > 1 {
						firstErr = fmt.Errorf("fetch a batch of %d .debs from %s: %w", len(idx), e.Name, err)
					}
					cancel()
				}
				for k, f := range fs {
					out[idx[k]] = f
					if !f.Cached {
						fetched++
					}
					bytes += f.Bytes
				}
				done += len(idx)
				if time.Since(lastLog) > 5*time.Second || done == len(entries) {
					lastLog = time.Now()
					fmt.Fprintf(log, "census: fetch %d/%d (%d downloaded, %.1f MB, %.0fs)\n", done, len(entries), fetched, float64(bytes)/1e6, time.Since(start).Seconds())
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
