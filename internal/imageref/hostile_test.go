package imageref_test

// Hostile inputs from the fail-closed review (issue #11): each is generated
// at test time, small on disk, and must end in a clear error or in the image
// a runtime would run, fast.

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/strata-sec/strata/internal/imageref"
)

// member is one tar member; a nil data with size > 0 is a sparse member
// (zeros that take no disk space).
type member struct {
	name     string
	data     []byte
	size     int64
	typeflag byte
	linkname string
}

// writeTar writes members to file. Sparse members are skipped over with a
// seek, so a 500 MB member costs a few blocks of disk.
func writeTar(t *testing.T, file string, members []member) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Mode: 0o644, Typeflag: m.typeflag, Linkname: m.linkname, Size: int64(len(m.data))}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if m.data == nil && m.size > 0 {
			hdr.Size = m.size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if m.data == nil && m.size > 0 {
			// tar.Writer writes headers unbuffered: skip the data
			// (rounded to the 512-byte block) on the file itself and
			// start a new writer for the members after it.
			if _, err := f.Seek((m.size+511)/512*512, io.SeekCurrent); err != nil {
				t.Fatal(err)
			}
			tw = tar.NewWriter(f)
			continue
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// dockerEntry is one image for dockerArchive.
type dockerEntry struct {
	tags []string
	img  v1.Image
}

// dockerArchive writes a docker-archive the way docker save lays it out:
// config as <id>.json, uncompressed layers as <diffid>/layer.tar.
func dockerArchive(t *testing.T, file string, entries ...dockerEntry) {
	t.Helper()
	type mfEntry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var (
		mf      []mfEntry
		members []member
		written = map[string]bool{}
	)
	add := func(name string, data []byte) {
		if !written[name] {
			written[name] = true
			members = append(members, member{name: name, data: data})
		}
	}
	for _, e := range entries {
		cfg, err := e.img.RawConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cn, err := e.img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		me := mfEntry{Config: cn.Hex + ".json", RepoTags: e.tags}
		add(me.Config, cfg)
		ls, err := e.img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			d, err := l.DiffID()
			if err != nil {
				t.Fatal(err)
			}
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			p := d.Hex + "/layer.tar"
			add(p, b)
			me.Layers = append(me.Layers, p)
		}
		mf = append(mf, me)
	}
	raw, err := json.Marshal(mf)
	if err != nil {
		t.Fatal(err)
	}
	writeTar(t, file, append([]member{{name: "manifest.json", data: raw}}, members...))
}

// wantErr fails the test unless err contains want ("" wants no error) and
// says whether the test should go on to check the result.
func wantErr(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return true
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	return false
}

// within fails the test if f takes longer than d: hostile inputs must not
// hang.
func within[T any](t *testing.T, d time.Duration, f func() (T, error)) (T, error) {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
	}
	var zero T
	return zero, nil
}

// readAll opens ref and reads every target's config and layers, as a scan
// would.
func readAll(ref string, opts imageref.Options) ([]imageref.Target, error) {
	ts, err := imageref.Open(context.Background(), ref, opts)
	if err != nil {
		return nil, err
	}
	for _, x := range ts {
		if _, err := x.Image.ConfigFile(); err != nil {
			return nil, err
		}
		ls, err := x.Image.Layers()
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			rc, err := l.Compressed()
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	return ts, nil
}

func configDigest(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// TestIndexPlatformChoice: an index entry is skipped only when it is a real
// BuildKit attestation; otherwise the images a runtime would run for the
// platform are all returned, each distinct manifest once.
func TestIndexPlatformChoice(t *testing.T) {
	tmp := t.TempDir()
	miner, benign, arm := image(t, "miner"), image(t, "benign"), image(t, "arm64")
	amd64 := &v1.Platform{OS: "linux", Architecture: "amd64"}
	att := map[string]string{"vnd.docker.reference.type": "attestation-manifest"}
	add := func(img v1.Image, p *v1.Platform, ann map[string]string) mutate.IndexAddendum {
		return mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p, Annotations: ann}}
	}
	tests := []struct {
		name     string
		entries  []mutate.IndexAddendum
		platform string
		want     []string // config digest|platforms
		wantErr  string
	}{
		{
			name:     "annotated linux/amd64 entry is an image",
			entries:  []mutate.IndexAddendum{add(miner, amd64, att), add(benign, amd64, nil)},
			platform: "linux/amd64",
			want:     []string{configDigest(t, miner) + "|linux/amd64", configDigest(t, benign) + "|linux/amd64"},
		},
		{
			name:    "annotated entry without platform filter",
			entries: []mutate.IndexAddendum{add(miner, amd64, att), add(benign, amd64, nil)},
			want:    []string{configDigest(t, miner) + "|linux/amd64", configDigest(t, benign) + "|linux/amd64"},
		},
		{
			name:     "real attestation skipped",
			entries:  []mutate.IndexAddendum{add(benign, amd64, nil), add(miner, &v1.Platform{OS: "unknown", Architecture: "unknown"}, att)},
			platform: "linux/amd64",
			want:     []string{configDigest(t, benign) + "|linux/amd64"},
		},
		{
			name:    "unknown/unknown without the annotation is scanned",
			entries: []mutate.IndexAddendum{add(benign, amd64, nil), add(miner, &v1.Platform{OS: "unknown", Architecture: "unknown"}, nil)},
			want:    []string{configDigest(t, benign) + "|linux/amd64", configDigest(t, miner) + "|unknown/unknown"},
		},
		{
			name:     "architecture alias normalized like containerd",
			entries:  []mutate.IndexAddendum{add(miner, &v1.Platform{OS: "linux", Architecture: "x86_64"}, nil), add(arm, &v1.Platform{OS: "linux", Architecture: "arm64"}, nil)},
			platform: "linux/amd64",
			want:     []string{configDigest(t, miner) + "|linux/x86_64"},
		},
		{
			name:     "better match wins: 386 not run when amd64 exists",
			entries:  []mutate.IndexAddendum{add(benign, &v1.Platform{OS: "linux", Architecture: "386"}, nil), add(miner, amd64, nil)},
			platform: "linux/amd64",
			want:     []string{configDigest(t, miner) + "|linux/amd64"},
		},
		{
			name:     "fallback platform runs when it is the only match",
			entries:  []mutate.IndexAddendum{add(miner, &v1.Platform{OS: "linux", Architecture: "386"}, nil), add(arm, &v1.Platform{OS: "linux", Architecture: "arm64"}, nil)},
			platform: "linux/amd64",
			want:     []string{configDigest(t, miner) + "|linux/386"},
		},
		{
			name:     "no match",
			entries:  []mutate.IndexAddendum{add(arm, &v1.Platform{OS: "linux", Architecture: "arm64"}, nil)},
			platform: "linux/s390x",
			wantErr:  "has no image for platform linux/s390x; platforms: linux/arm64",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(tmp, fmt.Sprint(i))
			writeLayout(t, dir, nil, map[string]v1.ImageIndex{"x": mutate.AppendManifests(empty.Index, tt.entries...)})
			ts, err := readAll(dir, imageref.Options{Platform: tt.platform})
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			var got []string
			for _, x := range ts {
				got = append(got, configDigest(t, x.Image)+"|"+x.Platform)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestIndexManyPlatformsOneImage: 2,000 entries (and a nested index listed
// 50 times) pointing at one image give one Target, quickly.
func TestIndexManyPlatformsOneImage(t *testing.T) {
	img := image(t, "one")
	dir := filepath.Join(t.TempDir(), "l")
	writeLayout(t, dir, map[string]v1.Image{"img": img}, nil)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	desc := v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(raw))}
	var many []v1.Descriptor
	for i := 0; i < 2000; i++ {
		e := desc
		e.Platform = &v1.Platform{OS: "linux", Architecture: []string{"amd64", "arm64", "386"}[i%3], OSVersion: fmt.Sprint(i)}
		many = append(many, e)
	}
	inner := writeIndexBlob(t, dir, many[:100])
	for i := 0; i < 50; i++ {
		many = append(many, inner)
	}
	top := writeIndexBlob(t, dir, many)
	top.Annotations = map[string]string{"org.opencontainers.image.ref.name": "x"}
	idx, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{top}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	ts, err := within(t, 10*time.Second, func() ([]imageref.Target, error) { return readAll(dir, imageref.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].Platform != "linux/amd64,linux/arm64,linux/386" || len(ts[0].Platforms) != 3 {
		t.Fatalf("got %d targets (first: %+v), want 1 with 3 platforms", len(ts), ts[0].Platforms)
	}
}

// writeIndexBlob writes an index of ds into the layout at dir and returns
// its descriptor.
func writeIndexBlob(t *testing.T, dir string, ds []v1.Descriptor) v1.Descriptor {
	t.Helper()
	raw, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: ds})
	if err != nil {
		t.Fatal(err)
	}
	h, n, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs", h.Algorithm, h.Hex), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: types.OCIImageIndex, Digest: h, Size: n}
}

// TestDockerArchiveSharedTag: two images under one tag; docker load leaves
// the tag on the last one, so that is the one scanned.
func TestDockerArchiveSharedTag(t *testing.T) {
	tmp := t.TempDir()
	benign, miner := image(t, "benign"), image(t, "miner")
	tests := []struct {
		name    string
		entries []dockerEntry
		ref     string
		want    v1.Image
		wantErr string
	}{
		{name: "last wins", entries: []dockerEntry{{[]string{"example.com/app:1"}, benign}, {[]string{"example.com/app:1"}, miner}}, ref: ":example.com/app:1", want: miner},
		{name: "last wins, other spelling", entries: []dockerEntry{{[]string{"docker.io/library/app:1"}, miner}, {[]string{"app:1", "app:2"}, benign}}, ref: ":app:1", want: benign},
		{name: "untouched tag", entries: []dockerEntry{{[]string{"app:2"}, miner}, {[]string{"app:1"}, benign}}, ref: ":app:2", want: miner},
		{name: "no selector is ambiguous", entries: []dockerEntry{{[]string{"app:1"}, benign}, {[]string{"app:1"}, miner}}, wantErr: "holds 2 images; pick one with"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(tmp, fmt.Sprint(i)+".tar")
			dockerArchive(t, file, tt.entries...)
			ts, err := readAll(file+tt.ref, imageref.Options{})
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			if len(ts) != 1 || configDigest(t, ts[0].Image) != configDigest(t, tt.want) {
				t.Fatalf("got %d targets, want the image with config %s", len(ts), configDigest(t, tt.want))
			}
		})
	}
}

// TestDockerArchiveBounds: documents are size-checked before they are
// read, the config is parsed once however many layers there are, and a
// config/manifest disagreement is an error.
func TestDockerArchiveBounds(t *testing.T) {
	tmp := t.TempDir()
	img := image(t, "x")
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	layer, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	diffID, err := ls[0].DiffID()
	if err != nil {
		t.Fatal(err)
	}
	manyLayers := func(n int) []member {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.RootFS.DiffIDs, cf.History = nil, nil
		var paths []string
		for i := 0; i < n; i++ {
			cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, diffID)
			paths = append(paths, "layer.tar")
		}
		raw, err := json.Marshal(cf)
		if err != nil {
			t.Fatal(err)
		}
		mf, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"app:1"}, "Layers": paths}})
		return []member{{name: "manifest.json", data: mf}, {name: "config.json", data: raw}, {name: "layer.tar", data: layer}}
	}
	mf := func(layers ...string) []byte {
		b, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"app:1"}, "Layers": layers}})
		return b
	}
	tests := []struct {
		name    string
		members []member
		wantErr string
	}{
		{name: "500 MB config", members: []member{{name: "manifest.json", data: mf("layer.tar")}, {name: "config.json", size: 500 << 20}, {name: "layer.tar", data: layer}},
			wantErr: "config config.json: config.json is 524288000 bytes, more than the 8388608 strata reads for it"},
		{name: "40 MB manifest.json", members: []member{{name: "manifest.json", size: 40 << 20}},
			wantErr: "manifest.json is 41943040 bytes, more than the"},
		{name: "config through a symlink to a huge member", members: []member{{name: "manifest.json", data: mf("layer.tar")}, {name: "big", size: 100 << 20}, {name: "config.json", typeflag: tar.TypeSymlink, linkname: "big"}, {name: "layer.tar", data: layer}},
			wantErr: "more than the 8388608"},
		{name: "fewer diff_ids than layers", members: []member{{name: "manifest.json", data: mf("layer.tar", "layer.tar")}, {name: "config.json", data: cfg}, {name: "layer.tar", data: layer}},
			wantErr: "config has 1 rootfs.diff_ids but manifest.json lists 2 layers"},
		{name: "missing layer", members: []member{{name: "manifest.json", data: mf("nope.tar")}, {name: "config.json", data: cfg}},
			wantErr: "no member nope.tar"},
		{name: "manifest.json not JSON", members: []member{{name: "manifest.json", data: []byte("{")}},
			wantErr: "not a docker-archive manifest"},
		{name: "10k layers", members: manyLayers(10000)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(tmp, fmt.Sprint(i)+".tar")
			writeTar(t, file, tt.members)
			_, err := within(t, 10*time.Second, func() ([]imageref.Target, error) {
				ts, err := readAll(file, imageref.Options{})
				if err != nil {
					return nil, err
				}
				// What a scan asks next: digest, manifest, every diffID.
				if _, err := ts[0].Image.Digest(); err != nil {
					return nil, err
				}
				ls, err := ts[0].Image.Layers()
				if err != nil {
					return nil, err
				}
				for _, l := range ls {
					if _, err := l.DiffID(); err != nil {
						return nil, err
					}
				}
				return ts, nil
			})
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			if fi, err := os.Stat(file); err == nil {
				var st syscall.Stat_t
				if syscall.Stat(file, &st) == nil && st.Blocks*512 > 64<<20 {
					t.Errorf("%s takes %d bytes on disk (size %d); the test should stay small", file, st.Blocks*512, fi.Size())
				}
			}
		})
	}
}

// TestLayoutSpecialFiles: a FIFO where a layout file should be, or a blob
// that is a symlink leading out of the layout, is an error, never a hang or
// a read of another file.
func TestLayoutSpecialFiles(t *testing.T) {
	img := image(t, "x")
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	md, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	blob := func(h v1.Hash) string { return filepath.Join("blobs", h.Algorithm, h.Hex) }
	outside := filepath.Join(t.TempDir(), "outside")
	tests := []struct {
		name    string
		file    string
		fifo    bool   // replace file by a FIFO
		link    string // replace file by a symlink to this target
		wantErr string
	}{
		{name: "index.json FIFO", file: "index.json", fifo: true, wantErr: "index.json is a named pipe (FIFO), not a regular file"},
		{name: "oci-layout FIFO", file: "oci-layout", fifo: true, wantErr: "oci-layout is a named pipe (FIFO), not a regular file"},
		{name: "manifest FIFO", file: blob(md), fifo: true, wantErr: "is a named pipe (FIFO), not a regular file"},
		{name: "config FIFO", file: blob(m.Config.Digest), fifo: true, wantErr: "is a named pipe (FIFO), not a regular file"},
		{name: "layer FIFO", file: blob(m.Layers[0].Digest), fifo: true, wantErr: "is a named pipe (FIFO), not a regular file"},
		{name: "layer symlinked outside", file: blob(m.Layers[0].Digest), link: outside, wantErr: "escapes"},
		{name: "config symlinked to a device", file: blob(m.Config.Digest), link: "/dev/zero", wantErr: "escapes"},
		{name: "layer symlinked inside", file: blob(m.Layers[0].Digest), link: "../../" + blob(m.Layers[0].Digest) + ".copy"},
		{name: "oci-layout not a marker", file: "oci-layout", wantErr: "oci-layout is not an OCI layout marker"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
			writeLayout(t, dir, map[string]v1.Image{"x": img}, nil)
			p := filepath.Join(dir, tt.file)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(outside, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tt.file)+".copy", data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.fifo:
				if err := syscall.Mkfifo(p, 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			case tt.link != "":
				if err := os.Symlink(tt.link, p); err != nil {
					t.Fatal(err)
				}
			default:
				if err := os.WriteFile(p, []byte("not json"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, ref := range []string{dir, "oci-layout:" + dir + ":x"} {
				_, err = within(t, 5*time.Second, func() ([]imageref.Target, error) { return readAll(ref, imageref.Options{}) })
				if tt.wantErr == "" {
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%s: err = %v, want %q", ref, err, tt.wantErr)
				}
				if errors.Is(err, imageref.ErrNotFound) {
					t.Errorf("a special file is not ErrNotFound: %v", err)
				}
			}
		})
	}
}

// TestLayoutWriteKeepsWorking guards the os.Root change: a layout written
// by go-containerregistry and read back is unchanged.
func TestLayoutWriteKeepsWorking(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "l")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := image(t, "y")
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	ts, err := readAll(dir, imageref.Options{})
	if err != nil || len(ts) != 1 || digest(t, ts[0].Image) != digest(t, img) {
		t.Fatalf("targets %v, err %v", ts, err)
	}
}
