package experiments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/corpus/debs"
	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/internal/buildkit"
	"github.com/strata-sec/strata/internal/loopback"
	"github.com/strata-sec/strata/internal/store"
	"github.com/strata-sec/strata/mutations"
)

// DefaultEpoch is SOURCE_DATE_EPOCH for reproducible builds: every
// timestamp in a built image is clamped to it.
var DefaultEpoch = time.Unix(1700000000, 0).UTC()

// Config is what a user chooses for a run; zero values mean the defaults.
type Config struct {
	// CacheDir holds the store, BuildKit's state and fetched packages;
	// default: the user cache dir + "/strata".
	CacheDir string
	// StoreDir overrides CacheDir/store.
	StoreDir string
	// BuildkitAddr uses a running daemon instead of a private one.
	BuildkitAddr string
	// ResultsDir, when set, is where records go: <ResultsDir>/<exp>, the
	// layout of the committed reference (results/). Empty (the default)
	// gives every run a directory of its own under RunsDir.
	ResultsDir string
	// RunsDir holds one directory per run; default "runs".
	RunsDir string
	// Seed drives every random choice.
	Seed int64
	// BuildTime disables SOURCE_DATE_EPOCH: images get build-time
	// timestamps and digests change on every build.
	BuildTime bool
	// ServeAddr is the loopback file server address; default
	// loopback.DefaultAddr (part of every digest: change it and digests change).
	ServeAddr string
	// Fresh discards earlier records of the experiment instead of resuming.
	Fresh bool
	// BuildOnly builds (or checks) the images and records nothing.
	BuildOnly bool
	// Slice restricts the run to part of the experiment.
	Slice Slice
	// Dynamic adds the opt-in sandbox detectors (behaviour and
	// hierarchical+dynamic, DynamicTimeout per image) to every pass of the
	// run without making it a slice: a whole run with them can be promoted.
	Dynamic bool
	// Jobs bounds simultaneous BuildKit solves and scans; 0 means
	// DefaultJobs.
	Jobs int
	// Verbose logs one line per image and record instead of one per phase.
	Verbose bool
	// Log receives progress lines; nil means os.Stderr.
	Log io.Writer
}

func (c *Config) defaults() error {
	if c.CacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no cache dir: set --cache: %w", err)
		}
		c.CacheDir = filepath.Join(d, "strata")
	}
	if c.StoreDir == "" {
		c.StoreDir = filepath.Join(c.CacheDir, "store")
	}
	if c.RunsDir == "" {
		c.RunsDir = "runs"
	}
	if c.Jobs <= 0 {
		c.Jobs = DefaultJobs
	}
	if c.ServeAddr == "" {
		c.ServeAddr = loopback.DefaultAddr
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	return nil
}

// DefaultJobs bounds simultaneous BuildKit solves and scans. Two matches
// the 2-core machines the experiments are sized for; BuildKit itself
// parallelises inside a solve.
const DefaultJobs = 2

// Env is a prepared environment for building the corpus: one per run.
type Env struct {
	Config  Config
	Store   *store.Store
	Builder *buildkit.Builder
	// Debian is the base image descriptor, under base.DebianName.
	Debian v1.Descriptor
	// Web is the drupal web-app image every sample is built FROM (the base
	// and the 7 benign layers), under drupal.DefaultWebImage.
	Web v1.Descriptor
	// webHistory is the number of history entries of Web: ground truth
	// counts the sample's instructions from there.
	webHistory int
	// webWorkdir is Web's WorkingDir, which the samples inherit.
	webWorkdir string
	// webLayers and debianLayers count the layers of Web and Debian: what
	// a squash of an image built FROM them keeps as its base.
	webLayers, debianLayers int
	// ContextDir is the drupal build context; ContextKey hashes its files.
	ContextDir string
	ContextKey string
	Server     *loopback.Server
	daemon     *buildkit.Daemon
	tmp        string

	keyMu    sync.Mutex
	keyLocks map[string]*sync.Mutex
	// imageMu serialises writing image mutations into the store, benignMu
	// building the benign corpus, casesMu the memo of unmutated cases.
	imageMu  sync.Mutex
	benignMu sync.Mutex
	casesMu  sync.Mutex
	cases    map[string]Built
}

// Prepare sets up everything a build needs, step by step with progress:
// store, buildkitd, Debian base (debootstrap once), offline .deb packages,
// the build context and the loopback server.
func Prepare(ctx context.Context, cfg Config) (env *Env, err error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	e := &Env{Config: cfg}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	start := time.Now()
	step := func(name string, f func() error) error {
		t0 := time.Now()
		e.vlogf("prepare: %s ...", name)
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		e.vlogf("prepare: %s done (%.1fs)", name, time.Since(t0).Seconds())
		return nil
	}
	if e.Store, err = store.Open(cfg.StoreDir); err != nil {
		return nil, err
	}
	if e.tmp, err = os.MkdirTemp("", "strata-run-"); err != nil {
		return nil, err
	}
	addr := cfg.BuildkitAddr
	if addr == "" {
		if err := step("start buildkitd", func() error {
			d, err := buildkit.StartDaemon(ctx, buildkit.DaemonConfig{StateDir: filepath.Join(cfg.CacheDir, "buildkit")})
			if err != nil {
				return err
			}
			e.daemon, addr = d, d.Addr
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if e.Builder, err = buildkit.NewBuilder(ctx, addr, e.Store); err != nil {
		return nil, err
	}
	if err := step("Debian bookworm minbase (debootstrap on first run, about a minute)", func() error {
		e.Debian, err = base.Debian(ctx, e.Store, base.DebianOptions{})
		return err
	}); err != nil {
		return nil, err
	}
	debsDir := filepath.Join(cfg.CacheDir, "debs", e.Debian.Digest.Hex[:16])
	if err := step("fetch .deb packages for the benign layers (apt, host configuration)", func() error {
		img, err := e.Store.Image(e.Debian.Digest)
		if err != nil {
			return err
		}
		status, err := base.ReadFile(img, "var/lib/dpkg/status", 64<<20)
		if err != nil {
			return fmt.Errorf("read dpkg status of the base image: %w", err)
		}
		sf := filepath.Join(e.tmp, "dpkg-status")
		if err := os.WriteFile(sf, status, 0o644); err != nil {
			return err
		}
		return debs.Fetch(ctx, sf, debsDir, drupal.Packages())
	}); err != nil {
		return nil, err
	}
	if err := step("write build context and served files", func() error {
		e.ContextDir = filepath.Join(e.tmp, "context")
		if err := drupal.WriteContext(e.ContextDir, debsDir); err != nil {
			return err
		}
		if e.ContextKey, err = hashTree(e.ContextDir); err != nil {
			return err
		}
		served := filepath.Join(e.tmp, "served")
		if err := drupal.WriteServed(served); err != nil {
			return err
		}
		if err := mutations.DummyNetworkFiles(served); err != nil {
			return err
		}
		e.Server, err = loopback.Serve(served, cfg.ServeAddr)
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("drupal web-app image (base + 7 benign layers; BuildKit)", func() error {
		return e.buildWeb(ctx)
	}); err != nil {
		return nil, err
	}
	e.logf("prepare: base %s, web-app image %s ready (%.1fs)", e.Debian.Digest.String()[:19], e.Web.Digest.String()[:19], time.Since(start).Seconds())
	return e, nil
}

// buildWeb builds the web-app image once per set of inputs; the samples are
// built FROM it, so its layers are immutable base layers to BuildKit.
func (e *Env) buildWeb(ctx context.Context) error {
	df, err := drupal.WebDockerfile(drupal.Options{ServerURL: e.Server.URL})
	if err != nil {
		return err
	}
	name := "base/" + drupal.DefaultWebImage
	key := base.InputsKey(string(df), e.ContextKey, e.Debian.Digest.String(), strconv.FormatBool(e.Config.BuildTime))
	if ent, err := e.Store.Lookup(name); err == nil && ent.Annotation(store.AnnInputs) == key && !e.Config.BuildTime {
		e.Web = ent.Descriptor
	} else {
		lf, err := e.buildLog(name)
		if err != nil {
			return err
		}
		res, err := e.Builder.Build(ctx, buildkit.Request{
			ContextDir: e.ContextDir,
			Dockerfile: df,
			BaseImages: map[string]v1.Hash{base.DebianName: e.Debian.Digest},
			Epoch:      e.Epoch(),
			Progress:   lf,
			Name:       name,
			Annotations: map[string]string{
				store.AnnInputs: key,
				store.AnnLabel:  LabelBenign,
			},
		})
		lf.Close()
		if err != nil {
			return fmt.Errorf("build %s (BuildKit log: %s): %w", name, lf.Name(), err)
		}
		e.Web = res.Descriptor
	}
	img, err := e.Store.Image(e.Web.Digest)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	e.webHistory = len(cf.History)
	e.webWorkdir = cf.Config.WorkingDir
	e.webLayers = len(cf.RootFS.DiffIDs)
	dimg, err := e.Store.Image(e.Debian.Digest)
	if err != nil {
		return err
	}
	dcf, err := dimg.ConfigFile()
	if err != nil {
		return err
	}
	e.debianLayers = len(dcf.RootFS.DiffIDs)
	return nil
}

// buildLog opens the file BuildKit's progress for one image goes to.
func (e *Env) buildLog(name string) (*os.File, error) {
	p := filepath.Join(e.Config.CacheDir, "logs", strings.ReplaceAll(name, "/", "_")+".log")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.Create(p)
}

// baseImages are the named contexts every sample build gets: the web-app
// image it is built FROM, and the Debian base (mutations may add stages
// FROM it).
func (e *Env) baseImages() map[string]v1.Hash {
	return map[string]v1.Hash{base.DebianName: e.Debian.Digest, drupal.DefaultWebImage: e.Web.Digest}
}

// Epoch is the SOURCE_DATE_EPOCH of builds, nil with BuildTime.
func (e *Env) Epoch() *time.Time {
	if e.Config.BuildTime {
		return nil
	}
	t := DefaultEpoch
	return &t
}

// Close stops the server and the private daemon and removes temp files.
func (e *Env) Close() {
	if e.Server != nil {
		_ = e.Server.Close()
	}
	if e.Builder != nil {
		_ = e.Builder.Close()
	}
	if e.daemon != nil {
		_ = e.daemon.Stop()
	}
	if e.tmp != "" {
		_ = os.RemoveAll(e.tmp)
	}
}

// hashTree hashes a directory's paths, modes and contents, so a build can be
// skipped when its inputs are unchanged.
func hashTree(dir string) (string, error) {
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%o\x00", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return "", err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", err
			}
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
