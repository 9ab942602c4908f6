package imageref_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/imageref"
)

// image is a small linux image; body makes it unique, arch defaults to amd64.
func image(t *testing.T, body string) v1.Image {
	t.Helper()
	arch := "amd64"
	if body == "arm64" {
		arch = body
	}
	img := dt.Image(t, v1.Config{Cmd: []string{"/bin/sh"}}, dt.Run("echo "+body, dt.Text("etc/motd", body)))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func digest(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// multiPlatform is an index of two platform images.
func multiPlatform(t *testing.T) v1.ImageIndex {
	t.Helper()
	return mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: image(t, "amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: image(t, "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
}

func writeLayout(t *testing.T, dir string, imgs map[string]v1.Image, idx map[string]v1.ImageIndex) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(imgs))
	for n := range imgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := p.AppendImage(imgs[n], layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": n})); err != nil {
			t.Fatal(err)
		}
	}
	for n, x := range idx {
		if err := p.AppendIndex(x, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": n})); err != nil {
			t.Fatal(err)
		}
	}
}

// tarDir writes dir's files into a tar file, the way `tar -C dir -cf f .`
// would.
func tarDir(t *testing.T, dir, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr.Name = "./" + filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	tmp := t.TempDir()
	one, a, b := image(t, "one"), image(t, "a"), image(t, "b")

	oneDir := filepath.Join(tmp, "one")
	writeLayout(t, oneDir, map[string]v1.Image{"app:1": one}, nil)
	twoDir := filepath.Join(tmp, "two")
	writeLayout(t, twoDir, map[string]v1.Image{"exp1/case-111": a, "base/debian:bookworm": b}, nil)
	multiDir := filepath.Join(tmp, "multi")
	writeLayout(t, multiDir, nil, map[string]v1.ImageIndex{"multi": multiPlatform(t)})
	ociTar := filepath.Join(tmp, "two.tar")
	tarDir(t, twoDir, ociTar)
	dockerTar := filepath.Join(tmp, "docker.tar")
	if err := tarball.MultiRefWriteToFile(dockerTar, map[name.Reference]v1.Image{
		name.MustParseReference("example.com/app:1"):  a,
		name.MustParseReference("example.com/tool:2"): b,
	}); err != nil {
		t.Fatal(err)
	}
	dockerOne := filepath.Join(tmp, "one-docker.tar")
	if err := tarball.WriteToFile(dockerOne, name.MustParseReference("app:1").(name.Tag), one); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(tmp, "x.tar.gz")
	if err := os.WriteFile(gz, []byte{0x1f, 0x8b, 8, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	if err := remote.Write(mustRef(t, host+"/repo:one"), one); err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(mustRef(t, host+"/repo:multi"), multiPlatform(t)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		ref     string
		opts    imageref.Options
		want    []string // Name|Platform|digest (digest "" = not checked)
		wantErr string
	}{
		{name: "layout with one image", ref: oneDir, want: []string{oneDir + ":app:1|linux/amd64|" + digest(t, one)}},
		{name: "layout by name", ref: twoDir + ":exp1/case-111", want: []string{twoDir + ":exp1/case-111|linux/amd64|" + digest(t, a)}},
		{name: "layout by name with colon", ref: twoDir + ":base/debian:bookworm", want: []string{twoDir + ":base/debian:bookworm|linux/amd64|" + digest(t, b)}},
		{name: "layout by digest", ref: twoDir + "@" + digest(t, b), want: []string{twoDir + "@" + digest(t, b) + "|linux/amd64|" + digest(t, b)}},
		{name: "explicit prefix", ref: "oci-layout:" + twoDir + ":exp1/case-111", want: []string{twoDir + ":exp1/case-111|linux/amd64|" + digest(t, a)}},
		{name: "layout ambiguous", ref: twoDir, wantErr: "holds 2 images; pick one with " + twoDir + ":NAME or " + twoDir + "@sha256:...; names: base/debian:bookworm, exp1/case-111"},
		{name: "layout unknown name", ref: twoDir + ":nope", wantErr: `no image named "nope" in layout ` + twoDir + "; names: base/debian:bookworm, exp1/case-111"},
		{name: "layout unknown digest", ref: twoDir + "@sha256:" + strings.Repeat("0", 64), wantErr: "no image with digest sha256:000"},
		{name: "multi-platform all", ref: multiDir, want: []string{multiDir + ":multi|linux/amd64|", multiDir + ":multi|linux/arm64/v8|"}},
		{name: "multi-platform one", ref: multiDir, opts: imageref.Options{Platform: "linux/arm64"}, want: []string{multiDir + ":multi|linux/arm64/v8|"}},
		{name: "multi-platform missing", ref: multiDir, opts: imageref.Options{Platform: "linux/s390x"}, wantErr: "has no image for platform linux/s390x; platforms: linux/amd64, linux/arm64/v8"},
		{name: "bad platform", ref: multiDir, opts: imageref.Options{Platform: "linux"}, wantErr: `bad platform "linux"`},
		{name: "oci tar by name", ref: ociTar + ":exp1/case-111", want: []string{ociTar + ":exp1/case-111|linux/amd64|" + digest(t, a)}},
		{name: "oci tar ambiguous", ref: ociTar, wantErr: "holds 2 images"},
		{name: "docker archive single", ref: dockerOne, want: []string{dockerOne + ":app:1|linux/amd64|"}},
		{name: "docker archive by tag", ref: dockerTar + ":example.com/tool:2", want: []string{dockerTar + ":example.com/tool:2|linux/amd64|"}},
		{name: "docker archive ambiguous", ref: dockerTar, wantErr: "holds 2 images; pick one with " + dockerTar + ":REPO:TAG"},
		{name: "docker archive unknown tag", ref: dockerTar + ":example.com/nope:1", wantErr: `no image tagged "example.com/nope:1"`},
		{name: "gzip tar", ref: gz, wantErr: "gzip-compressed"},
		{name: "missing path", ref: filepath.Join(tmp, "missing"), wantErr: "no such file or directory"},
		{name: "directory without layout", ref: t.TempDir(), wantErr: "not an OCI image layout"},
		{name: "registry image", ref: host + "/repo:one", opts: imageref.Options{Insecure: true}, want: []string{host + "/repo:one|linux/amd64|" + digest(t, one)}},
		{name: "registry prefix", ref: "registry:" + host + "/repo:one", opts: imageref.Options{Insecure: true}, want: []string{host + "/repo:one|linux/amd64|" + digest(t, one)}},
		{name: "registry index", ref: host + "/repo:multi", opts: imageref.Options{Insecure: true, Platform: "linux/amd64"}, want: []string{host + "/repo:multi|linux/amd64|"}},
		{name: "registry unknown tag", ref: host + "/repo:nope", opts: imageref.Options{Insecure: true}, wantErr: "fetch " + host + "/repo:nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := imageref.Open(context.Background(), tt.ref, tt.opts)
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			var got []string
			for i, x := range ts {
				s := x.Name + "|" + x.Platform + "|"
				if i < len(tt.want) && !strings.HasSuffix(tt.want[i], "|") {
					s += digest(t, x.Image)
				}
				got = append(got, s)
				// Every target must be readable end to end.
				ls, err := x.Image.Layers()
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range ls {
					rc, err := l.Uncompressed()
					if err != nil {
						t.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, rc); err != nil {
						t.Fatal(err)
					}
					rc.Close()
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestOCITarCorrupt checks that a manifest that does not hash to its
// digest is refused.
func TestOCITarCorrupt(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "l")
	img := image(t, "x")
	writeLayout(t, dir, map[string]v1.Image{"x": img}, nil)
	d, _ := img.Digest()
	p := filepath.Join(dir, "blobs", "sha256", d.Hex)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(raw, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "l.tar")
	tarDir(t, dir, file)
	_, err = imageref.Open(context.Background(), file, imageref.Options{})
	if err == nil || !strings.Contains(err.Error(), "the layout is corrupt") {
		t.Fatalf("err = %v, want a corrupt-layout error", err)
	}
	if errors.Is(err, imageref.ErrNotFound) {
		t.Errorf("corruption is not ErrNotFound")
	}
}
