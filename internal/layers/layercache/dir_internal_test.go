//go:build unix

package layercache

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/strata-sec/strata/internal/layers"
)

// TestOversizedRecordDropped: a record file larger than any record a walk
// writes (a 3 GiB sparse file, a few KB on disk) is dropped by its size,
// never read whole, and the layer is read again.
func TestOversizedRecordDropped(t *testing.T) {
	dir := t.TempDir()
	c := New(Dir(dir))
	key := cacheKey("echo/1", "", "sha256:ab")
	p := c.path(key)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, ok := c.get(key); ok {
		t.Fatal("an oversized record was used")
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("reading the cache allocated %d bytes: the oversized record was read", n)
	}
	if st := c.Stats(); st.Rejected != 1 {
		t.Errorf("oversized record not rejected: %+v", st)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("oversized record not removed: %v", err)
	}
}

// TestUntrustedDirRefused: records are checksummed, not authenticated, so
// a cache directory others can write (or another user owns) is refused
// with an error that says what to do, and its records are never replayed.
func TestUntrustedDirRefused(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr string // "" = trusted
	}{
		{name: "private", prepare: func(t *testing.T, dir string) {}},
		{name: "missing: created private", prepare: func(t *testing.T, dir string) { os.RemoveAll(dir) }},
		{name: "group-writable", prepare: func(t *testing.T, dir string) { chmod(t, dir, 0o770) }, wantErr: "chmod go-w"},
		{name: "world-writable", prepare: func(t *testing.T, dir string) { chmod(t, dir, 0o777) }, wantErr: "writable by group or others"},
		{name: "other owner", prepare: func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("changing a directory's owner needs root")
			}
			if err := os.Chown(dir, 4242, 4242); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "not the current user"},
		{name: "a file", prepare: func(t *testing.T, dir string) {
			os.RemoveAll(dir)
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			// A trusted walk leaves records; then the directory is changed.
			img := testImage(t)
			if _, err := layers.WalkAnalyzer(context.Background(), img, Wrap(New(Dir(dir)), "echo/1", &echo{})); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, dir)
			c := New(Dir(dir))
			err := c.Check()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check = %v, want an error containing %q", err, tt.wantErr)
			}
			if _, err := layers.WalkAnalyzer(context.Background(), img, Wrap(c, "echo/1", &echo{})); err != nil {
				t.Fatal(err)
			}
			if st := c.Stats(); st.DiskHits != 0 || st.DiskErrors == 0 {
				t.Errorf("untrusted directory used: %+v", st)
			}
		})
	}
}

func chmod(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}
