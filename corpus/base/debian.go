package base

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/strata-sec/strata/internal/store"
)

// DebianName is the FROM name Dockerfiles use for the Debian base.
const DebianName = "debian:bookworm"

// debianRecipe changes whenever the rootfs recipe changes.
const debianRecipe = "debian-minbase/2"

// DebianOptions configures the debootstrap run.
type DebianOptions struct {
	Suite string // default "bookworm"
	// Mirror overrides the archive URI; by default it is read from the
	// machine's apt sources, so no mirror host is written into strata.
	Mirror string
	// Log receives debootstrap's output; nil discards it.
	Log io.Writer
}

// Debian returns the Debian minbase image from the store, running
// debootstrap (about a minute) only when no entry with the same inputs
// exists.
func Debian(ctx context.Context, st *store.Store, o DebianOptions) (v1.Descriptor, error) {
	if o.Suite == "" {
		o.Suite = "bookworm"
	}
	if o.Mirror == "" {
		m, err := AptMirror(o.Suite)
		if err != nil {
			return v1.Descriptor{}, err
		}
		o.Mirror = m
	}
	dbs, err := exec.LookPath("debootstrap")
	if err != nil {
		return v1.Descriptor{}, errors.New("debootstrap not found: run `make setup` (installs Debian's debootstrap)")
	}
	ver, _ := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", "debootstrap").Output()
	key := InputsKey(debianRecipe, o.Suite, o.Mirror, string(ver))
	name := "base/" + DebianName
	if e, err := st.Lookup(name); err == nil && e.Annotation(store.AnnInputs) == key {
		return e.Descriptor, nil
	}
	if os.Geteuid() != 0 {
		return v1.Descriptor{}, errors.New("debootstrap needs root: run as root")
	}
	tmp, err := os.MkdirTemp("", "strata-debootstrap-")
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer os.RemoveAll(tmp)
	rootfs := filepath.Join(tmp, "rootfs")
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	cmd := exec.CommandContext(ctx, dbs, "--variant=minbase", o.Suite, rootfs, o.Mirror)
	cmd.Stdout, cmd.Stderr = log, log
	// Tools that honour it (shadow's, dpkg's) write Epoch instead of
	// today; tarDir fixes what is dated anyway.
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(Epoch.Unix(), 10))
	if err := cmd.Run(); err != nil {
		return v1.Descriptor{}, fmt.Errorf("debootstrap --variant=minbase %s: %w", o.Suite, err)
	}
	// The image must use the same archive the host uses when run offline.
	if err := os.WriteFile(filepath.Join(rootfs, "etc/apt/sources.list"),
		[]byte(fmt.Sprintf("deb %s %s main\n", o.Mirror, o.Suite)), 0o644); err != nil {
		return v1.Descriptor{}, err
	}
	lt := filepath.Join(tmp, "layer.tar")
	f, err := os.Create(lt)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := tarDir(rootfs, f); err != nil {
		f.Close()
		return v1.Descriptor{}, err
	}
	if err := f.Close(); err != nil {
		return v1.Descriptor{}, err
	}
	img, err := imageFromLayer(lt, v1.Config{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"bash"},
	}, fmt.Sprintf("debootstrap --variant=minbase %s (strata %s)", o.Suite, debianRecipe))
	if err != nil {
		return v1.Descriptor{}, err
	}
	return st.Put(img, name, map[string]string{store.AnnInputs: key})
}

// AptMirror returns the first archive URI the machine's apt sources use for
// suite's main component (one-line .list and deb822 .sources formats).
func AptMirror(suite string) (string, error) {
	files := []string{"/etc/apt/sources.list"}
	for _, pat := range []string{"/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if u := mirrorFrom(string(b), suite, strings.HasSuffix(f, ".sources")); u != "" {
			return u, nil
		}
	}
	return "", fmt.Errorf("no apt source for suite %q with component main in /etc/apt/sources.list{,.d}: configure apt, or pass a mirror explicitly", suite)
}

func mirrorFrom(text, suite string, deb822 bool) string {
	if !deb822 {
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			// deb [opts] URI suite comp...
			if len(f) < 4 || f[0] != "deb" {
				continue
			}
			i := 1
			if strings.HasPrefix(f[i], "[") {
				for i < len(f) && !strings.HasSuffix(f[i], "]") {
					i++
				}
				i++
			}
			if i+2 < len(f) && f[i+1] == suite && contains(f[i+2:], "main") {
				return f[i]
			}
		}
		return ""
	}
	for _, stanza := range strings.Split(text, "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if k, v, ok := strings.Cut(line, ":"); ok {
				fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		if !contains(strings.Fields(fields["Types"]), "deb") ||
			!contains(strings.Fields(fields["Suites"]), suite) ||
			!contains(strings.Fields(fields["Components"]), "main") {
			continue
		}
		if uris := strings.Fields(fields["URIs"]); len(uris) > 0 {
			return uris[0]
		}
	}
	return ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ReadFile returns one file's content from a flattened image (whiteouts
// applied), bounded by max bytes.
func ReadFile(img v1.Image, path string, max int64) ([]byte, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	want := strings.TrimPrefix(path, "/")
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s not in image", path)
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/") != want {
			continue
		}
		if h.Size > max {
			return nil, fmt.Errorf("%s is %d bytes, over the %d limit", path, h.Size, max)
		}
		return io.ReadAll(io.LimitReader(tr, max))
	}
}
