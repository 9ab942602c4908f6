package base

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMirrorFrom(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		deb822 bool
		want   string
	}{
		{"one-line", "# c\ndeb http://mirror.invalid/debian bookworm main contrib\n", false, "http://mirror.invalid/debian"},
		{"one-line with options", "deb [arch=amd64 signed-by=/k.gpg] http://m.invalid/d bookworm main\n", false, "http://m.invalid/d"},
		{"one-line other suite", "deb http://m.invalid/d bullseye main\n", false, ""},
		{"one-line deb-src only", "deb-src http://m.invalid/d bookworm main\n", false, ""},
		{"deb822", "Types: deb\n# comment\nURIs: http://a.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://b.invalid/sec\nSuites: bookworm-security\nComponents: main\n", true, "http://a.invalid/debian"},
		{"deb822 no main", "Types: deb\nURIs: http://a.invalid/debian\nSuites: bookworm\nComponents: contrib\n", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mirrorFrom(tt.text, "bookworm", tt.deb822); got != tt.want {
				t.Errorf("mirrorFrom = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSkipPath(t *testing.T) {
	for path, want := range map[string]bool{
		"var/log/dpkg.log": true, "var/log": false, "proc/1": true, "etc/passwd": false,
		"var/lib/apt/lists/x_Packages": true, "etc/machine-id": false, "usr/bin/dpkg": false,
	} {
		if got := skipPath(path); got != want {
			t.Errorf("skipPath(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestTarDirUndated: two roots debootstrapped on different days (shadow's
// last-change day differs) give the same tar, with Epoch's day; a line
// without a last-change day keeps its empty field, and 0 (change at next
// login) stays 0.
func TestTarDirUndated(t *testing.T) {
	tarOf := func(day string) []byte {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		shadow := "root:*:" + day + ":0:99999:7:::\nnobody:*::0:99999:7:::\nnew:*:0:0:99999:7:::\n"
		for _, f := range []string{"etc/shadow", "etc/shadow-"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(shadow), 0o640); err != nil {
				t.Fatal(err)
			}
		}
		var b bytes.Buffer
		if err := tarDir(dir, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := tarOf("20790"), tarOf("20791")
	if !bytes.Equal(a, b) {
		t.Fatal("roots built on two days give different tars")
	}
	want := fmt.Sprintf("root:*:%d:0:99999:7:::\nnobody:*::0:99999:7:::\nnew:*:0:0:99999:7:::\n", Epoch.Unix()/86400)
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(h.Name, "etc/shadow") {
			got, _ := io.ReadAll(tr)
			if string(got) != want || h.Size != int64(len(want)) {
				t.Errorf("%s: %q (size %d), want %q", h.Name, got, h.Size, want)
			}
		}
	}
}
