package drupal

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/debs"
)

// Packages returns the Debian packages layer 1 installs, by name. The harness
// resolves their --no-install-recommends closure against the base image's
// dpkg status with debs.Fetch and hands the result to WriteContext.
func Packages() []string {
	return []string{
		"apache2",
		"ca-certificates",
		"curl",
		"git",
		"libapache2-mod-php",
		"php-cli",
		"php-gd",
		"php-mbstring",
		"php-mysql",
		"php-xml",
		"wget",
	}
}

// buildctx holds the static build context: PHP app, PHP config and the two
// entrypoint scripts. "all:" keeps the app's .htaccess.
//
//go:embed all:buildctx
var buildctxFS embed.FS

// minerdFS is the stand-in's source, built into the context's minerd and
// committed into the served cpuminer-multi repository.
//
//go:embed minerd/*.go
var minerdFS embed.FS

// Context layout: what the Dockerfile's COPY/ADD/--mount lines name.
const (
	ContextDebsDir = "debs"   // *.deb for layer 1 (bind-mounted, not copied into the image)
	ContextMinerd  = "minerd" // the stand-in binary layer 9 adds as /bin/minerd
)

// minerdGoMod is the go.mod of the stand-in when built on its own. The module
// is named like the repository it is served as, so the binary WriteContext
// builds is byte-identical to what build.sh in the cloned repository builds
// with the same Go toolchain.
const minerdGoMod = "module cpuminer-multi\n\ngo 1.24\n"

// WriteContext writes the build context for every case into dir: the app,
// config and scripts, the minerd binary, and debsDir's *.deb files (hard
// links where possible) plus its manifest under dir/debs. Entries it owns are
// replaced, so a rerun never leaves stale packages behind; other entries in
// dir are left alone. Needs the go command (to build minerd).
func WriteContext(dir, debsDir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write context: %w", err)
	}
	entries, err := fs.ReadDir(buildctxFS, "buildctx")
	if err != nil {
		return fmt.Errorf("write context: %w", err)
	}
	owned := []string{ContextDebsDir, ContextMinerd}
	for _, e := range entries {
		owned = append(owned, e.Name())
	}
	for _, name := range owned {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("write context: clear %s: %w", name, err)
		}
	}

	sub, err := fs.Sub(buildctxFS, "buildctx")
	if err != nil {
		return fmt.Errorf("write context: %w", err)
	}
	if err := corpus.WriteTree(dir, sub, func(p string) os.FileMode {
		// The entrypoint scripts are COPY'd as they are, so their mode here
		// is their mode in the image.
		if strings.HasPrefix(p, "bin/") {
			return 0o755
		}
		return 0o644
	}, SourceDate); err != nil {
		return fmt.Errorf("write context: %w", err)
	}
	if err := BuildMinerd(filepath.Join(dir, ContextMinerd)); err != nil {
		return fmt.Errorf("write context: %w", err)
	}
	if err := debs.Link(filepath.Join(dir, ContextDebsDir), debsDir); err != nil {
		return fmt.Errorf("write context: %w", err)
	}
	return nil
}

// minerdSources returns the stand-in's non-test Go files by base name.
func minerdSources() (map[string][]byte, error) {
	files, err := fs.Glob(minerdFS, "minerd/*.go")
	if err != nil {
		return nil, err
	}
	src := make(map[string][]byte)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := minerdFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		src[path.Base(f)] = data
	}
	return src, nil
}

// BuildMinerd builds the stand-in from its embedded source into out, for
// linux on the host's architecture (the architecture a local buildkitd
// builds for). The flags make the bytes depend only on the source and the
// Go toolchain: no cgo, no file paths, no build id, no VCS stamp, and a
// fixed GOAMD64 level.
func BuildMinerd(out string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build minerd: the go command is needed: %w", err)
	}
	src, err := minerdSources()
	if err != nil {
		return fmt.Errorf("build minerd: %w", err)
	}
	tmp, err := os.MkdirTemp("", "strata-minerd-")
	if err != nil {
		return fmt.Errorf("build minerd: %w", err)
	}
	defer os.RemoveAll(tmp)
	src["go.mod"] = []byte(minerdGoMod)
	for name, data := range src {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return fmt.Errorf("build minerd: %w", err)
		}
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("build minerd: %w", err)
	}
	cmd := exec.Command(goCmd, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", absOut, ".")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0",
		"GOOS=linux",
		"GOARCH="+runtime.GOARCH,
		"GOAMD64=v1",
		"GOFLAGS=-buildvcs=false",
		"GOEXPERIMENT=",
		"GOTOOLCHAIN=local",
		"GOWORK=off",
		"GO111MODULE=on",
		"GOPROXY=off",
	)
	if outb, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build minerd: go build: %w: %s", err, outb)
	}
	if err := os.Chmod(absOut, 0o755); err != nil {
		return fmt.Errorf("build minerd: %w", err)
	}
	if err := os.Chtimes(absOut, SourceDate, SourceDate); err != nil {
		return fmt.Errorf("build minerd: %w", err)
	}
	return nil
}
