package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestExtractLayer runs with new files only and with an inode pool of
// stale files (content, setuid bits) that extraction must reuse as if new.
func TestExtractLayer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("overlay whiteouts (mknod, trusted xattrs) need root")
	}
	t.Run("created", func(t *testing.T) { testExtractLayer(t, nil) })
	t.Run("pooled", func(t *testing.T) {
		pool := stalePool(t, 20)
		testExtractLayer(t, pool)
		if n := countEntries(pool.dir, 100); n >= 20 {
			t.Errorf("pool still holds %d files: extraction took none", n)
		}
	})
}

// stalePool returns an inode pool holding n files with content and
// setuid bits, as no recycled file has (recycle truncates) but extraction
// must not trust.
func stalePool(t *testing.T, n int) *inodePool {
	t.Helper()
	pool := newInodePool(filepath.Join(t.TempDir(), poolDir), 1000)
	if err := os.Mkdir(pool.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		f := filepath.Join(pool.dir, "stale"+strconv.Itoa(i))
		if err := os.WriteFile(f, []byte("stale content"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(f, 0o4755)
	}
	return pool
}

func testExtractLayer(t *testing.T, pool *inodePool) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h tar.Header, body string) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	add(tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}, "")
	add(tar.Header{Name: "usr/bin/su", Typeflag: tar.TypeReg, Mode: 0o4755}, "setuid")
	add(tar.Header{Name: "etc/opq/.wh..wh..opq", Typeflag: tar.TypeReg}, "")
	add(tar.Header{Name: "etc/.wh.gone", Typeflag: tar.TypeReg}, "")
	add(tar.Header{Name: "dev/sda", Typeflag: tar.TypeBlock, Devmajor: 8}, "")
	add(tar.Header{Name: "dev/fifo", Typeflag: tar.TypeFifo}, "")
	add(tar.Header{Name: "etc/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, "")
	add(tar.Header{Name: "bin/out", Typeflag: tar.TypeLink, Linkname: "../../../../etc/passwd"}, "")
	add(tar.Header{Name: "bin/su2", Typeflag: tar.TypeLink, Linkname: "usr/bin/su"}, "")
	// A path written twice, and an empty directory replaced by a file.
	add(tar.Header{Name: "etc/dup", Typeflag: tar.TypeReg, Mode: 0o644}, "first")
	add(tar.Header{Name: "etc/dup", Typeflag: tar.TypeReg, Mode: 0o600}, "2nd")
	add(tar.Header{Name: "etc/was-dir/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(tar.Header{Name: "etc/was-dir", Typeflag: tar.TypeReg, Mode: 0o644}, "f")
	// A directory replaced by a file after the caches were reset (another
	// directory replaced first).
	add(tar.Header{Name: "r/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(tar.Header{Name: "s/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(tar.Header{Name: "s", Typeflag: tar.TypeReg, Mode: 0o644}, "s")
	add(tar.Header{Name: "r", Typeflag: tar.TypeReg, Mode: 0o644}, "r")
	// Deeper than the walker's bound: skipped before any directory.
	add(tar.Header{Name: strings.Repeat("deep/", 300) + "f", Typeflag: tar.TypeReg, Mode: 0o644}, "")
	add(tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644}, strings.Repeat("x", 100))
	// Whiteouts naming the parent (".wh..") or the directory above
	// (".wh...") or nothing: skipped, never applied outside their place.
	add(tar.Header{Name: "etc/sub/.wh...", Typeflag: tar.TypeReg}, "")
	add(tar.Header{Name: "etc/sub/.wh..", Typeflag: tar.TypeReg}, "")
	add(tar.Header{Name: "etc/sub/.wh.", Typeflag: tar.TypeReg}, "")
	add(tar.Header{Name: ".wh...", Typeflag: tar.TypeReg}, "")
	tw.Close()

	dir := filepath.Join(t.TempDir(), "root")
	m, err := extractLayer(context.Background(), tar.NewReader(&buf), dir, rootfsLimits{maxBytes: 50, maxFiles: 10, maxEntries: 100}, pool)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want os.FileMode // type and permission bits; 0 = must not exist
	}{
		{"tmp", os.ModeDir | os.ModeSticky | 0o777},
		{"usr/bin/su", 0o755},
		{"etc/gone", os.ModeDevice | os.ModeCharDevice},
		{"dev/sda", 0},
		{"dev/fifo", 0},
		{"etc/link", os.ModeSymlink | 0o777},
		{"bin/su2", 0o755},
		{"big", 0},
		{"etc", os.ModeDir | 0o755},
		{"etc/sub", os.ModeDir | 0o755},
		{"etc/dup", 0o600},
		{"etc/was-dir", 0o644},
		{"r", 0o644},
		{"s", 0o644},
		{"deep", 0},
	}
	for _, tt := range tests {
		fi, err := os.Lstat(filepath.Join(dir, tt.path))
		if tt.want == 0 {
			if err == nil {
				t.Errorf("/%s exists (%v); want it skipped", tt.path, fi.Mode())
			}
			continue
		}
		if err != nil || fi.Mode() != tt.want {
			t.Errorf("/%s: %v, %v; want %v", tt.path, fi, err, tt.want)
		}
	}
	for p, want := range map[string]string{"usr/bin/su": "setuid", "etc/dup": "2nd", "etc/was-dir": "f", "r": "r"} {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != want {
			t.Errorf("/%s holds %q (%v), want %q", p, b, err, want)
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "etc/gone"), &st); err != nil || st.Rdev != 0 {
		t.Errorf("whiteout rdev %d (%v), want 0/0", st.Rdev, err)
	}
	v := make([]byte, 4)
	if n, err := unix.Getxattr(filepath.Join(dir, "etc/opq"), "trusted.overlay.opaque", v); err != nil || string(v[:n]) != "y" {
		t.Errorf("opaque xattr: %q, %v", v[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "bin/out")); err == nil {
		t.Error("a hard link out of the root was created")
	}
	if m.Limit == "" || !strings.Contains(m.Limit, "/big") {
		t.Errorf("limit %q; want the byte limit at /big", m.Limit)
	}
	if j := strings.Join(m.Skipped, "\n"); !strings.Contains(j, "/dev/sda") || !strings.Contains(j, "/dev/fifo") {
		t.Errorf("skipped %v; want the device and the fifo", m.Skipped)
	}
}
