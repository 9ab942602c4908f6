package census

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/ulikunitz/xz"
)

type tarEntry struct {
	name, body string
	typ        byte
	link       string
}

func mkTar(t *testing.T, es []tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link, ModTime: time.Unix(1600000000, 0)}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return b.Bytes()
}

// mkDeb writes a .deb: ar with debian-binary, control.tar.gz and data.tar.xz.
func mkDeb(t *testing.T, path string, control, data []tarEntry) {
	t.Helper()
	var cz, dz bytes.Buffer
	gw := gzip.NewWriter(&cz)
	gw.Write(mkTar(t, control))
	gw.Close()
	xw, err := xz.NewWriter(&dz)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(mkTar(t, data))
	xw.Close()
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		b    []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", cz.Bytes()}, {"data.tar.xz", dz.Bytes()}} {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 0, 0, 0, "100644", len(m.b))
		ar.Write(m.b)
		if len(m.b)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	if err := os.WriteFile(path, ar.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func layerNames(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, h := range layerHeaders(t, path) {
		s := h.Name
		if h.Linkname != "" {
			s += " -> " + h.Linkname
		}
		out = append(out, s)
	}
	return out
}

// layerHeaders reads the tar headers of a gzip layer file, in order.
func layerHeaders(t *testing.T, path string) []*tar.Header {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
}

func TestWriteDebLayer(t *testing.T) {
	dir := t.TempDir()
	deb := filepath.Join(dir, "p.deb")
	mkDeb(t, deb,
		[]tarEntry{{"./", "", tar.TypeDir, ""}, {"./control", "Package: p\n", tar.TypeReg, ""}, {"./postinst", "#!/bin/sh\nexit 0\n", tar.TypeReg, ""}, {"./md5sums", "x", tar.TypeReg, ""}},
		[]tarEntry{{"./", "", tar.TypeDir, ""}, {"./usr/", "", tar.TypeDir, ""}, {"./usr/bin/", "", tar.TypeDir, ""},
			{"./usr/bin/p", "#!/bin/sh\necho p\n", tar.TypeReg, ""}, {"./usr/bin/q", "", tar.TypeLink, "./usr/bin/p"},
			{"../../etc/evil", "x", tar.TypeReg, ""}, {"./usr/bin/r", "", tar.TypeSymlink, "p"}})
	lf, err := WriteDebLayer(filepath.Join(dir, "l.tar.gz"), []Deb{{deb, "p"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"usr/", "usr/bin/", "usr/bin/p", "usr/bin/q -> usr/bin/p", "etc/evil", "usr/bin/r -> p", "var/lib/dpkg/info/p.postinst"}
	if got := layerNames(t, lf.Path); !reflect.DeepEqual(got, want) {
		t.Errorf("layer holds %q, want %q", got, want)
	}
	if lf.Size <= 0 || lf.DiffSize <= lf.Size/10 {
		t.Errorf("sizes %+v", lf)
	}
	again, err := WriteDebLayer(filepath.Join(dir, "l2.tar.gz"), []Deb{{deb, "p"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(lf.Path)
	b, _ := os.ReadFile(again.Path)
	if !bytes.Equal(a, b) {
		t.Error("the same .deb gives two different layers")
	}
	img, err := Assemble(empty.Image, lf, "test layer", time.Unix(1700000000, 0), "/app")
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.History) != 1 || cf.History[0].CreatedBy != "test layer" || cf.Config.WorkingDir != "/app" || len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("config %+v", cf)
	}
	if _, err := WriteDebLayer(filepath.Join(dir, "bad.tar.gz"), []Deb{{filepath.Join(dir, "l.tar.gz"), "x"}}); err == nil {
		t.Error("a gzip file passed for a .deb")
	}
}

func TestWriteNPMLayer(t *testing.T) {
	dir := t.TempDir()
	for p, body := range map[string]string{"package.json": "{}", "node_modules/a/index.js": "x", NPMMarker: ""} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "node_modules/.bin"), 0o755)
	os.Symlink("../a/index.js", filepath.Join(dir, "node_modules/.bin/a"))
	lf, err := WriteNPMLayer(filepath.Join(t.TempDir(), "l.tar.gz"), dir, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app/", "app/node_modules/", "app/node_modules/.bin/", "app/node_modules/.bin/a -> ../a/index.js",
		"app/node_modules/a/", "app/node_modules/a/index.js", "app/package.json"}
	if got := layerNames(t, lf.Path); !reflect.DeepEqual(got, want) {
		t.Errorf("layer holds %q, want %q", got, want)
	}
}
