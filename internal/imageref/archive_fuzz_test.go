package imageref

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDockerArchive feeds arbitrary manifest.json and config documents to
// the docker-archive reader: it must return an image or an error, never
// panic or read past its bounds.
func FuzzDockerArchive(f *testing.F) {
	f.Add([]byte(`[{"Config":"c.json","RepoTags":["app:1"],"Layers":["l.tar"]}]`), []byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"]}}`), "app:1")
	f.Add([]byte(`[{"Config":"c.json","RepoTags":["app:1"],"Layers":["l.tar"]},{"Config":"c.json","RepoTags":["docker.io/library/app:1"],"Layers":["l.tar","l.tar"]}]`), []byte(`{"rootfs":{"diff_ids":[]}}`), "app:1")
	f.Add([]byte(`[{"Config":"","Layers":[""]}]`), []byte(`{}`), "")
	f.Add([]byte(`{"Config":"c.json"}`), []byte(`null`), "x")
	f.Add([]byte(`[]`), []byte(``), "")
	f.Add([]byte(`[{"Config":"../c.json","RepoTags":["a:b:c"],"Layers":["/l.tar","l.tar/.."]}]`), []byte(`{"rootfs":{"diff_ids":["sha256:zz"]}}`), "a:b")
	f.Fuzz(func(t *testing.T, manifest, config []byte, tag string) {
		file := filepath.Join(t.TempDir(), "a.tar")
		out, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		tw := tar.NewWriter(out)
		layer := make([]byte, 1024) // an empty tar: two zero blocks
		for _, m := range []struct {
			name string
			data []byte
		}{{"manifest.json", manifest}, {"c.json", config}, {"l.tar", layer}} {
			if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write(m.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		out.Close()
		ts, kind, err := openTar(file)
		if err != nil || kind != tarDockerArchive {
			t.Fatalf("openTar: %v (kind %d)", err, kind)
		}
		targets, err := openDockerArchive(ts, local{path: file, name: tag}, nil)
		if err != nil {
			return
		}
		for _, x := range targets {
			if _, err := x.Image.Manifest(); err != nil {
				continue
			}
			if _, err := x.Image.Layers(); err != nil {
				continue
			}
		}
	})
}
