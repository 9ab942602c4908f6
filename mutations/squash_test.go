package mutations

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// baseSteps are two base layers and a metadata entry, like the drupal
// stage: files, a directory with content, and a file to delete later.
var baseSteps = []dt.Step{
	dt.Run("base", dt.Dir("etc"), dt.Text("etc/passwd", "root"), dt.Text("etc/old", "old"),
		dt.Dir("opt"), dt.Dir("opt/app"), dt.Text("opt/app/a", "a"), dt.Dir("srv"), dt.Text("srv/s", "s")),
	dt.Run("app", dt.Dir("usr"), dt.Dir("usr/bin"), dt.Text("usr/bin/tool", "tool")),
	dt.Meta("EXPOSE 80"),
}

func TestSquashContent(t *testing.T) {
	tests := []struct {
		name    string
		steps   []dt.Step // above the base; the first is layer 2
		want    []string  // squashed layer entries "name" or "name=body"
		wantErr error
	}{
		{
			name: "adds and overwrites",
			steps: []dt.Step{
				dt.Run("a", dt.Text("x", "1"), dt.Text("y", "1")),
				dt.Run("b", dt.Text("x", "2")),
			},
			want: []string{"x=2", "y=1"},
		},
		{
			name:  "whiteout of a base file is kept",
			steps: []dt.Step{dt.Run("rm", dt.Whiteout("etc/old")), dt.Run("b", dt.Text("z", "z"))},
			want:  []string{"etc/.wh.old", "z=z"},
		},
		{
			name:  "whiteout of a squashed file is kept, the file is not",
			steps: []dt.Step{dt.Run("a", dt.Dir("tmp"), dt.Text("tmp/x", "x")), dt.Run("rm", dt.Whiteout("tmp/x"))},
			want:  []string{"tmp", "tmp/.wh.x"},
		},
		{
			name:  "file re-created above its whiteout",
			steps: []dt.Step{dt.Run("rm", dt.Whiteout("etc/old")), dt.Run("new", dt.Text("etc/old", "new"))},
			want:  []string{"etc/old=new"},
		},
		{
			name: "base directory deleted and re-created becomes opaque",
			steps: []dt.Step{
				dt.Run("rm", dt.Whiteout("opt/app")),
				dt.Run("new", dt.Dir("opt/app"), dt.Text("opt/app/b", "b")),
			},
			want: []string{"opt/app", "opt/app/.wh..wh..opq", "opt/app/b=b"},
		},
		{
			name: "opaque directory hides lower squashed files and stays",
			steps: []dt.Step{
				dt.Run("c", dt.Text("opt/app/c", "c")),
				dt.Run("opq", dt.Opaque("opt/app"), dt.Text("opt/app/d", "d")),
			},
			want: []string{"opt/app/.wh..wh..opq", "opt/app/d=d"},
		},
		{
			name:  "files under a deleted directory go",
			steps: []dt.Step{dt.Run("a", dt.Text("srv/new", "n")), dt.Run("rm", dt.Whiteout("srv"))},
			want:  []string{".wh.srv"},
		},
		{
			name:  "directory replaced by a file",
			steps: []dt.Step{dt.Run("a", dt.Dir("d"), dt.Text("d/x", "x")), dt.Run("b", dt.Text("d", "file"))},
			want:  []string{"d=file"},
		},
		{
			name:  "hard link to a squashed file",
			steps: []dt.Step{dt.Run("a", dt.Text("bin-a", "A"), dt.Hardlink("bin-b", "bin-a"))},
			want:  []string{"bin-a=A", "bin-b"},
		},
		{
			name:  "hard link to a base file",
			steps: []dt.Step{dt.Run("a", dt.Hardlink("passwd-link", "etc/passwd"))},
			want:  []string{"passwd-link"},
		},
		{
			name:    "hard link whose target changes above",
			steps:   []dt.Step{dt.Run("a", dt.Text("bin-a", "A"), dt.Hardlink("bin-b", "bin-a")), dt.Run("b", dt.Text("bin-a", "new"))},
			wantErr: ErrSquashHardlink,
		},
		{
			name:  "metadata-only steps only",
			steps: []dt.Step{dt.Run("empty"), dt.Meta("ENTRYPOINT x")},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := dt.Image(t, v1.Config{}, append(slices.Clone(baseSteps), tt.steps...)...)
			out, lm, err := NewSquash(2).MutateImage(img, NewRand(1, "squash"))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			layers, err := out.Layers()
			if err != nil {
				t.Fatal(err)
			}
			if len(layers) != 3 {
				t.Fatalf("%d layers, want the 2 base layers + 1", len(layers))
			}
			if got := entryList(t, layers[2]); !slices.Equal(got, tt.want) {
				t.Errorf("squashed layer %q, want %q", got, tt.want)
			}
			wantMap := []int{0, 1}
			for range countLayers(tt.steps) {
				wantMap = append(wantMap, 2)
			}
			if !slices.Equal(lm, wantMap) {
				t.Errorf("layerMap %v, want %v", lm, wantMap)
			}
			// The squashed image has the same file system as the original.
			if got, want := flatten(t, out), flatten(t, img); !equalFS(got, want) {
				t.Errorf("file system after squash\n%v\nwant\n%v", got, want)
			}
			checkConsistent(t, out)
		})
	}
}

func TestSquashHistoryModes(t *testing.T) {
	img := dt.Image(t, v1.Config{}, append(slices.Clone(baseSteps),
		dt.Run("l2", dt.Text("x", "1")), dt.Run("l3", dt.Text("y", "1")), dt.Meta("ENTRYPOINT [\"/x\"]"))...)
	orig, _ := img.ConfigFile()
	modes := map[string]int64{}
	for seed := int64(1); seed <= 16 && len(modes) < 2; seed++ {
		out, _, err := ApplyImage(NewSquash(2), img, seed)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := out.ConfigFile()
		last := cf.History[len(cf.History)-1]
		head := cf.History[:len(baseSteps)]
		if !slices.EqualFunc(head, orig.History[:len(baseSteps)], func(a, b v1.History) bool { return a.CreatedBy == b.CreatedBy && a.EmptyLayer == b.EmptyLayer }) {
			t.Errorf("seed %d: base history changed", seed)
		}
		switch {
		case last.CreatedBy == "squash":
			modes["drop"] = seed
			if len(cf.History) != len(baseSteps)+1 {
				t.Errorf("drop mode: %d history entries, want %d", len(cf.History), len(baseSteps)+1)
			}
		case strings.HasPrefix(last.Comment, "merge of layers 2-3"):
			modes["keep"] = seed
			if len(cf.History) != len(orig.History)+1 {
				t.Errorf("keep mode: %d history entries, want %d", len(cf.History), len(orig.History)+1)
			}
			for i, h := range cf.History[len(baseSteps) : len(cf.History)-1] {
				if !h.EmptyLayer || h.CreatedBy != orig.History[len(baseSteps)+i].CreatedBy {
					t.Errorf("keep mode: entry %d = %+v, want the original as empty_layer", len(baseSteps)+i, h)
				}
			}
		default:
			t.Errorf("seed %d: last history entry %+v is neither mode", seed, last)
		}
		if !last.Created.Equal(orig.History[len(orig.History)-1].Created.Time) {
			t.Errorf("seed %d: squash entry created %v, want the last squashed entry's time", seed, last.Created)
		}
		checkConsistent(t, out)
	}
	if len(modes) != 2 {
		t.Errorf("16 seeds gave only the modes %v", modes)
	}
}

func TestSquashDeterministic(t *testing.T) {
	steps := append(slices.Clone(baseSteps), dt.Run("l2", dt.Text("x", "1"), dt.Whiteout("etc/old")), dt.Run("l3", dt.Text("y", "2")))
	for seed := int64(1); seed <= 4; seed++ {
		// Two independently built inputs, as two runs of the harness have.
		a, _, err := ApplyImage(NewSquash(2), dt.Image(t, v1.Config{}, steps...), seed)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := ApplyImage(NewSquash(2), dt.Image(t, v1.Config{}, steps...), seed)
		if err != nil {
			t.Fatal(err)
		}
		da, _ := a.Digest()
		db, _ := b.Digest()
		if da != db {
			t.Errorf("seed %d: digests %s and %s differ", seed, da, db)
		}
	}
}

func TestSquashNothingAbove(t *testing.T) {
	img := dt.Image(t, v1.Config{}, baseSteps...)
	for _, from := range []int{2, 3, 100} {
		out, lm, err := NewSquash(from).MutateImage(img, NewRand(1, "squash"))
		if err != nil {
			t.Fatal(err)
		}
		di, _ := img.Digest()
		do, _ := out.Digest()
		if di != do {
			t.Errorf("from %d: digest changed", from)
		}
		if !slices.Equal(lm, []int{0, 1}) {
			t.Errorf("from %d: layerMap %v, want identity", from, lm)
		}
	}
}

func TestSquashEverything(t *testing.T) {
	img := dt.Image(t, v1.Config{}, append(slices.Clone(baseSteps), dt.Run("l2", dt.Whiteout("etc/old")))...)
	out, lm, err := NewSquash(0).MutateImage(img, NewRand(1, "squash"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lm, []int{0, 0, 0}) {
		t.Errorf("layerMap %v, want all 0", lm)
	}
	if got, want := flatten(t, out), flatten(t, img); !equalFS(got, want) {
		t.Errorf("file system after squash\n%v\nwant\n%v", got, want)
	}
	checkConsistent(t, out)
}

func TestSquashMediaTypes(t *testing.T) {
	img := dt.Image(t, v1.Config{}, append(slices.Clone(baseSteps), dt.Run("l2", dt.Text("x", "1")))...)
	tests := []struct {
		name     string
		manifest types.MediaType
		want     types.MediaType
	}{
		{name: "docker", manifest: types.DockerManifestSchema2, want: types.DockerLayer},
		{name: "oci", manifest: types.OCIManifestSchema1, want: types.OCILayer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mutate.MediaType(img, tt.manifest)
			out, _, err := NewSquash(2).MutateImage(in, NewRand(1, "squash"))
			if err != nil {
				t.Fatal(err)
			}
			if mt, _ := out.MediaType(); mt != tt.manifest {
				t.Errorf("manifest media type %s, want %s", mt, tt.manifest)
			}
			m, err := out.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Layers[2].MediaType; got != tt.want {
				t.Errorf("squashed layer media type %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRegisteredSquashUsesCorpusBoundary(t *testing.T) {
	m, err := Get("squash")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := m.(Squash); !ok || s.From() != DefaultSquashFrom || DefaultSquashFrom != 8 {
		t.Errorf("registered squash = %#v, want From() = 8", m)
	}
}

func TestDummyNetworkFiles(t *testing.T) {
	read := func() []byte {
		dir := t.TempDir()
		if err := DummyNetworkFiles(dir); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(DummyNetworkPath)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := read(), read()
	if !bytes.Equal(a, b) {
		t.Error("two calls wrote different files")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	if len(zr.File) != 1 || zr.File[0].UncompressedSize64 != 1<<20 {
		t.Errorf("zip holds %d files, want one of 1 MiB", len(zr.File))
	}
}

func countLayers(steps []dt.Step) int {
	n := 0
	for _, s := range steps {
		if !s.Empty {
			n++
		}
	}
	return n
}

// entryList lists a layer's entries in order as "name" or, for a regular
// file with content, "name=body".
func entryList(t *testing.T, l v1.Layer) []string {
	t.Helper()
	var out []string
	err := eachEntry(l, func(h *tar.Header, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		s := cleanName(h.Name)
		if len(b) > 0 {
			s += "=" + string(b)
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// flatten applies an image's layers the way the OCI image spec defines
// it, as an independent reference: a layer's whiteouts and opaque markers
// remove from the lower layers, then its entries are added. Hard links
// become the target's content.
func flatten(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	fs := map[string]string{}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	removeUnder := func(p string) {
		for k := range fs {
			if k == p || strings.HasPrefix(k, p+"/") {
				delete(fs, k)
			}
		}
	}
	for _, l := range layers {
		type add struct{ name, val string }
		var adds []add
		err := eachEntry(l, func(h *tar.Header, r io.Reader) error {
			name := cleanName(h.Name)
			dir, base := path.Dir(name), path.Base(name)
			switch {
			case base == opaqueMarker:
				for k := range fs {
					if strings.HasPrefix(k, dir+"/") {
						delete(fs, k)
					}
				}
			case strings.HasPrefix(base, whiteoutPrefix):
				removeUnder(path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)))
			default:
				b, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				val := "file:" + string(b)
				switch h.Typeflag {
				case tar.TypeDir:
					val = "dir"
				case tar.TypeLink:
					val = "link:" + cleanName(h.Linkname)
				}
				adds = append(adds, add{name, val})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range adds {
			if a.val != "dir" {
				removeUnder(a.name)
			}
			if target, ok := strings.CutPrefix(a.val, "link:"); ok {
				a.val = fs[target]
			}
			for d := path.Dir(a.name); d != "."; d = path.Dir(d) {
				if _, ok := fs[d]; !ok {
					fs[d] = "dir"
				}
			}
			fs[a.name] = a.val
		}
	}
	return fs
}

func equalFS(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// checkConsistent checks what corpus.GroundTruth and every detector rely
// on: one diffID per layer, one non-empty history entry per layer.
func checkConsistent(t *testing.T, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range cf.History {
		if !h.EmptyLayer {
			n++
		}
	}
	if n != len(layers) || len(cf.RootFS.DiffIDs) != len(layers) {
		t.Errorf("%d layers, %d diffIDs, %d history entries with a layer", len(layers), len(cf.RootFS.DiffIDs), n)
	}
	for i, l := range layers {
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		if d != cf.RootFS.DiffIDs[i] {
			t.Errorf("layer %d diffID %s, config says %s", i, d, cf.RootFS.DiffIDs[i])
		}
	}
}
