package benign

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/debs"
)

// Base images an Image can be built FROM; the harness resolves both through
// BuildKit named contexts.
const (
	FromDebian = "debian:bookworm"
	FromDrupal = "drupal"
)

// ContextDebsDir is where WriteContext puts the image's .deb files; the
// Dockerfiles bind-mount it for dpkg -i (never copied into the image).
const ContextDebsDir = "debs"

// SourceDate is the mtime of every file this package writes, so COPY
// layers are reproducible.
var SourceDate = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// Options fill the Dockerfiles' templated parts.
type Options struct {
	// ServerURL is the harness's loopback server (serving WriteServed's
	// tree under /benign/). Required.
	ServerURL string
}

// Image is one benign image of the corpus.
type Image struct {
	// Name is short and unique; the store name is "benign/<Name>".
	Name string
	// Description says what the image is and why it is hard.
	Description string
	// From is FromDebian or FromDrupal.
	From string
	// Packages are the Debian packages the image installs (resolved
	// against From's dpkg status); empty means none.
	Packages []string
	// Tree holds the image's files as <Name>/Dockerfile and <Name>/ctx/...;
	// nil means this package's own images. Another corpus (corpus/wild)
	// reuses the build machinery with a tree of its own.
	Tree fs.FS
	// Prepare, when set, runs after WriteContext wrote the context files,
	// e.g. to compile a stand-in program into the context.
	Prepare func(ctxDir string) error
}

// tree is the file tree the image's Dockerfile and context come from.
func (im Image) tree() fs.FS {
	if im.Tree != nil {
		return im.Tree
	}
	sub, err := fs.Sub(imagesFS, "images")
	if err != nil {
		panic(err) // a constant, valid path
	}
	return sub
}

//go:embed all:images
var imagesFS embed.FS

//go:embed all:served
var servedFS embed.FS

//go:embed install.Dockerfile.tmpl
var installTmpl string

// Dockerfile renders the image's Dockerfile.
func (im Image) Dockerfile(o Options) ([]byte, error) {
	u, err := url.Parse(o.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("benign %s: ServerURL %q must be an http(s) URL of the harness's loopback server", im.Name, o.ServerURL)
	}
	src, err := fs.ReadFile(im.tree(), im.Name+"/Dockerfile")
	if err != nil {
		return nil, fmt.Errorf("benign %s: %w", im.Name, err)
	}
	t, err := template.New("install").Option("missingkey=error").Parse(installTmpl)
	if err != nil {
		return nil, err
	}
	if _, err := t.New(im.Name).Parse(string(src)); err != nil {
		return nil, fmt.Errorf("benign %s: parse Dockerfile: %w", im.Name, err)
	}
	data := struct {
		ServerURL string
		From      string
	}{strings.TrimRight(o.ServerURL, "/"), im.From}
	var out bytes.Buffer
	if err := t.ExecuteTemplate(&out, im.Name, data); err != nil {
		return nil, fmt.Errorf("benign %s: %w", im.Name, err)
	}
	return out.Bytes(), nil
}

// Files lists the image's context files (slash paths relative to the
// context), sorted.
func (im Image) Files() []string {
	var out []string
	_ = fs.WalkDir(im.tree(), im.Name+"/ctx", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, im.Name+"/ctx/"))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// fileMode is a context file's mode: scripts and anything under a bin/
// directory are executable (COPY keeps the mode).
func fileMode(p string) os.FileMode {
	if strings.HasSuffix(p, ".sh") || strings.HasPrefix(p, "bin/") || strings.Contains(p, "/bin/") {
		return 0o755
	}
	return 0o644
}

// WriteContext writes the image's build context into dir (replacing it):
// its files and, when it installs packages, debsDir's .deb files and
// manifest under dir/debs.
func (im Image) WriteContext(dir, debsDir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("benign %s: %w", im.Name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("benign %s: %w", im.Name, err)
	}
	sub, err := fs.Sub(im.tree(), im.Name+"/ctx")
	if err != nil {
		return err
	}
	if err := corpus.WriteTree(dir, sub, fileMode, SourceDate); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("benign %s: %w", im.Name, err)
	}
	if len(im.Packages) > 0 {
		if err := debs.Link(filepath.Join(dir, ContextDebsDir), debsDir); err != nil {
			return fmt.Errorf("benign %s: %w", im.Name, err)
		}
	}
	if im.Prepare != nil {
		if err := im.Prepare(dir); err != nil {
			return fmt.Errorf("%s: prepare context: %w", im.Name, err)
		}
	}
	return os.Chtimes(dir, SourceDate, SourceDate)
}

// WriteServed writes the files builds download into dir/benign (install
// scripts, tool releases, a health endpoint); the harness serves dir.
func WriteServed(dir string) error {
	sub, err := fs.Sub(servedFS, "served")
	if err != nil {
		return err
	}
	return corpus.WriteTree(filepath.Join(dir, "benign"), sub, func(string) os.FileMode { return 0o644 }, SourceDate)
}
