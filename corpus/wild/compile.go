package wild

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/benign"
)

// compileAll compiles every program into the context dir. The toolchains
// are the host's (gcc and libc6-dev from `make setup`, the go command that
// builds strata); nothing is downloaded: Go stand-ins use the standard
// library only and build with GOPROXY=off.
func compileAll(dir string, progs []Program) error {
	for _, p := range progs {
		if err := compile(dir, p); err != nil {
			return fmt.Errorf("compile %s: %w", p.Source, err)
		}
	}
	return nil
}

func compile(ctxDir string, p Program) error {
	if !filepath.IsLocal(filepath.FromSlash(p.Out)) {
		return fmt.Errorf("output %q is not a path inside the context", p.Out)
	}
	out := filepath.Join(ctxDir, filepath.FromSlash(p.Out))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// A fixed scratch path keeps the output byte-identical between runs
	// (paths end up in debug info and Go build IDs).
	work := filepath.Join(os.TempDir(), "strata-wild-src", strings.ReplaceAll(p.Source, "/", "_"))
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var cmd *exec.Cmd
	switch {
	case strings.HasSuffix(p.Source, ".c"):
		data, err := fs.ReadFile(srcFS, path.Join("src", p.Source))
		if err != nil {
			return err
		}
		src := filepath.Join(work, path.Base(p.Source))
		if err := corpus.WriteFile(src, data, 0o644, benign.SourceDate); err != nil {
			return err
		}
		args := []string{"-O2", "-s", "-ffile-prefix-map=" + work + "=.", "-o", out}
		if staticLibc() {
			args = append(args, "-static")
		}
		for _, d := range p.Defines {
			args = append(args, "-D"+d)
		}
		cmd = exec.Command("gcc", append(args, src)...)
	default:
		sub, err := fs.Sub(srcFS, path.Join("src", p.Source))
		if err != nil {
			return err
		}
		if err := corpus.WriteTree(work, sub, func(string) os.FileMode { return 0o644 }, benign.SourceDate); err != nil {
			return fmt.Errorf("%w (a Go stand-in is a directory under corpus/wild/src)", err)
		}
		if _, err := os.Stat(filepath.Join(work, "go.mod")); os.IsNotExist(err) {
			if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte("module standin\n\ngo 1.22\n"), 0o644); err != nil {
				return err
			}
		}
		cmd = exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOOS=linux", "GOARCH=amd64")
	}
	cmd.Dir = work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if _, lerr := exec.LookPath(cmd.Args[0]); lerr != nil {
			return fmt.Errorf("%s not found: run make setup", cmd.Args[0])
		}
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	if err := os.Chmod(out, 0o755); err != nil {
		return err
	}
	return os.Chtimes(out, benign.SourceDate, benign.SourceDate)
}

// staticLibc reports whether a static libc is installed (libc6-dev).
func staticLibc() bool {
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libc.a", "/usr/lib/libc.a"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
