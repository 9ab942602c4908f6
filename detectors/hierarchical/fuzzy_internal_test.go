package hierarchical

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/glaslos/tlsh"
)

// TestTLSHMatchesGlaslos: the streaming accumulator gives exactly the digest
// github.com/glaslos/tlsh computes, whatever the chunking.
func TestTLSHMatchesGlaslos(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var inputs [][]byte
	for _, n := range []int{256, 257, 300, 1000, 4096, 65537, 300000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		inputs = append(inputs, b)
		// Text-like: few distinct bytes.
		txt := make([]byte, n)
		for i := range txt {
			txt[i] = "abcdefgh ij\n"[r.IntN(12)]
		}
		inputs = append(inputs, txt)
	}
	for _, p := range []string{"/bin/ls", "/bin/true", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "testdata/debian/bash.bashrc", "testdata/debian/profile"} {
		if b, err := os.ReadFile(p); err == nil {
			inputs = append(inputs, b)
		}
	}
	for k, in := range inputs {
		want, err := tlsh.HashBytes(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{1, 3, 4096, 1 << 20} {
			var a tlshAcc
			for i := 0; i < len(in); i += chunk {
				a.Write(in[i:min(len(in), i+chunk)])
			}
			if got := a.digest(); got != want.String() {
				t.Fatalf("input %d (%d bytes), chunks of %d: digest %s, glaslos/tlsh %s", k, len(in), chunk, got, want.String())
			}
		}
	}
}

func TestTLSHNoDigestForShortOrUniform(t *testing.T) {
	for _, in := range [][]byte{[]byte("#!/bin/sh\necho hi\n"), bytes.Repeat([]byte{0}, 1<<16), bytes.Repeat([]byte("ab"), 1<<12)} {
		var a tlshAcc
		a.Write(in)
		if d := a.digest(); d != "" {
			t.Errorf("%d bytes of %q...: digest %s, want none", len(in), in[:2], d)
		}
	}
}

// BenchmarkTLSH compares the accumulator with glaslos/tlsh's Write.
func BenchmarkTLSH(b *testing.B) {
	data, err := os.ReadFile("/usr/lib/x86_64-linux-gnu/libcrypto.so.3")
	if err != nil {
		b.Skip(err)
	}
	b.Run("tlshAcc", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			var a tlshAcc
			a.Write(data)
			_ = a.digest()
		}
	})
	b.Run("glaslos", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			h := tlsh.New()
			h.Write(data)
			h.Sum(nil)
		}
	})
}

// TestDigestsSkipSharedLibraries: programs and scripts get the hash
// signal's digests; a shared library (ET_DYN without PT_INTERP) does only
// when it is executable.
func TestDigestsSkipSharedLibraries(t *testing.T) {
	for _, tc := range []struct {
		path string
		exec bool
		want bool
	}{
		{"/bin/ls", true, true},                                    // PIE executable: ET_DYN with PT_INTERP
		{"/bin/ls", false, true},                                   // not executable, still a program
		{"/usr/lib/x86_64-linux-gnu/libz.so.1", false, false},      // shared library, 0644
		{"/usr/lib/x86_64-linux-gnu/libz.so.1", true, true},        // executable: maybe a static-PIE program
		{"/usr/lib/x86_64-linux-gnu/libcrypto.so.3", false, false}, // shared library
		{"testdata/debian/profile", false, true},                   // a script (as usr/local/bin/start.sh)
	} {
		b, err := os.ReadFile(tc.path)
		if err != nil {
			t.Skipf("%s: %v", tc.path, err)
		}
		mode := os.FileMode(0o644)
		if tc.exec {
			mode = 0o755
		}
		name := strings.TrimPrefix(tc.path, "/")
		if strings.HasPrefix(tc.path, "testdata/") {
			name = "usr/local/bin/start.sh"
		}
		fr, err := analyzeStream(source{path: name, shown: tc.path, exec: tc.exec, mode: mode, size: int64(len(b))}, bytes.NewReader(b), fileOpts{})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(fr.digests) > 0; got != tc.want {
			t.Errorf("%s (exec %v): digests %v, want %v", tc.path, tc.exec, got, tc.want)
		}
	}
}
