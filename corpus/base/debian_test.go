package base

import "testing"

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
