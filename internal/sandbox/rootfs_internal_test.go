package sandbox

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/layers"
)

// TestMaterialiseStaysInside writes hostile layers and checks the rootfs:
// links are created, never followed out; no device nodes; no setuid bits;
// whiteouts applied; limits reported.
func TestMaterialiseStaysInside(t *testing.T) {
	outside := t.TempDir()
	img := dt.Image(t, v1.Config{},
		dt.Run("base",
			dt.Dir("etc"), dt.Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), dt.Text("etc/gone", "x"),
			dt.File{Name: "bin/suid", Body: "x", Mode: 0o4755},
			dt.File{Name: "dev/sda", Type: tar.TypeChar},
			dt.Symlink("escape", outside),
			dt.Symlink("rel", "../../../../"+strings.TrimPrefix(outside, "/")),
		),
		dt.Run("over",
			dt.Whiteout("etc/gone"),
			dt.Text("escape/planted", "through an absolute link"),
			dt.Text("rel/planted", "through a relative link"),
			dt.Hardlink("etc/hard", "etc/passwd"),
		),
	)
	dir := filepath.Join(t.TempDir(), "rootfs")
	rf, err := materialise(context.Background(), img, dir, rootfsLimits{maxBytes: 1 << 20, maxFiles: 100})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("wrote outside the root: %v", ents)
	}
	tests := []struct {
		name, path string
		want       func(fi os.FileInfo, err error) bool
	}{
		{"setuid stripped", "bin/suid", func(fi os.FileInfo, err error) bool { return err == nil && fi.Mode() == 0o755 }},
		{"no device node", "dev/sda", func(_ os.FileInfo, err error) bool { return os.IsNotExist(err) }},
		{"whiteout applied", "etc/gone", func(_ os.FileInfo, err error) bool { return os.IsNotExist(err) }},
		{"hard link kept", "etc/hard", func(fi os.FileInfo, err error) bool { return err == nil && fi.Mode().IsRegular() }},
		// A later file under a link path lands inside the root; the link
		// is then not made (and reported).
		{"file under a link stays inside", "escape/planted", func(fi os.FileInfo, err error) bool { return err == nil && fi.Mode().IsRegular() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := os.Lstat(filepath.Join(dir, tt.path))
			if !tt.want(fi, err) {
				t.Errorf("/%s: %v %v", tt.path, fi, err)
			}
		})
	}
	t.Logf("skipped: %q", rf.Skipped)
	if !strings.Contains(strings.Join(rf.Skipped, "\n"), "/dev/sda: device node") {
		t.Errorf("device node not reported: %v", rf.Skipped)
	}
}

func TestMaterialiseReportsLimits(t *testing.T) {
	files := []dt.File{dt.Text("a", "1"), dt.Text("b", "22"), dt.Text("c", "333")}
	tests := []struct {
		name string
		lim  rootfsLimits
		want string
	}{
		{"files", rootfsLimits{maxBytes: 1 << 20, maxFiles: 2}, "file limit 2 reached at /c"},
		{"bytes", rootfsLimits{maxBytes: 3, maxFiles: 10}, "byte limit 3 reached at /c"},
		{"none", rootfsLimits{maxBytes: 1 << 20, maxFiles: 10}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := dt.Image(t, v1.Config{}, dt.Run("files", files...))
			rf, err := materialise(context.Background(), img, filepath.Join(t.TempDir(), "r"), tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(rf.Limit, tt.want) || (tt.want == "") != (rf.Limit == "") {
				t.Errorf("limit %q, want %q", rf.Limit, tt.want)
			}
		})
	}
}

// TestOriginOf: an executable's path as the kernel or argv names it is
// attributed to the layer that wrote the file, through links of the file
// and of its directories (merged-/usr images link /bin to usr/bin).
func TestOriginOf(t *testing.T) {
	img := dt.Image(t, v1.Config{},
		dt.Run("base",
			dt.Exec("usr/bin/bash", "ELF"),
			dt.Symlink("bin", "usr/bin"),
			dt.Exec("usr/local/bin/app", "ELF"),
			dt.Symlink("loop/a", "b"), dt.Symlink("loop/b", "a"),
		),
		dt.Run("app",
			dt.Symlink("opt/run", "/usr/local/bin/app"),
			dt.Symlink("opt/bin", "../usr/local/bin"),
			dt.Exec("usr/bin/python3", "ELF"),
		),
	)
	res, err := layers.Walk(context.Background(), img, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path  string
		layer int // layers.NoLayer: not found
	}{
		{"/usr/bin/bash", 0},
		{"/bin/bash", 0},
		{"/bin/python3", 1},
		{"/opt/run", 0},
		{"/opt/bin/app", 0},
		{"/bin/missing", layers.NoLayer},
		{"/loop/a", layers.NoLayer},
		{"/loop/a/x", layers.NoLayer},
		{"/", layers.NoLayer},
	}
	// A link that replaced a directory hides the directory's files:
	// /bin/sh is layer 1's /usr/bin/sh, not layer 0's hidden /bin/sh.
	replaced, err := layers.Walk(context.Background(), dt.Image(t, v1.Config{},
		dt.Run("base", dt.Dir("bin"), dt.Exec("bin/sh", "ELF")),
		dt.Run("usrmerge", dt.Whiteout("bin"), dt.Symlink("bin", "usr/bin"), dt.Exec("usr/bin/sh", "ELF")),
	), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := OriginOf(replaced, "/bin/sh"); !ok || o.Layer != 1 {
		t.Errorf("OriginOf(/bin/sh) through a link that replaced a directory = layer %d, %v; want 1", o.Layer, ok)
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			o, ok := OriginOf(res, tt.path)
			if o.Layer != tt.layer || ok != (tt.layer != layers.NoLayer) {
				t.Errorf("OriginOf(%s) = layer %d, %v; want %d", tt.path, o.Layer, ok, tt.layer)
			}
		})
	}
}
