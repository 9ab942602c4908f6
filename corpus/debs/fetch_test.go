package debs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		file    string
		want    Deb
		wantErr bool
	}{
		{file: "git_1%3a2.39.5-0+deb12u3_amd64.deb", want: Deb{Name: "git", Version: "1:2.39.5-0+deb12u3", Architecture: "amd64"}},
		{file: "media-types_10.0.0_all.deb", want: Deb{Name: "media-types", Version: "10.0.0", Architecture: "all"}},
		{file: "libyuv0_0.0~git20230123.b2528b0-1_amd64.deb", want: Deb{Name: "libyuv0", Version: "0.0~git20230123.b2528b0-1", Architecture: "amd64"}},
		{file: "not-a-package.deb", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := describe(p)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("describe(%q) = %+v, want error", tt.file, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.File, tt.want.Size = tt.file, 1
			tt.want.SHA256 = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" // sha256("x")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("describe = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// needApt skips tests that run the host's apt-get: it is an integration
// dependency (package lists from `apt-get update`, network to the mirror).
func needApt(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping apt-get integration test in -short mode")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Fatalf("apt-get not found; this integration test needs a Debian host with `apt-get update` done: %v", err)
	}
}

// TestFetchReal downloads one tiny dependency-free package against an empty
// dpkg status, then checks that a second call with the same inputs is a
// no-op and that other inputs replace the result.
func TestFetchReal(t *testing.T) {
	needApt(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	status := filepath.Join(tmp, "status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(tmp, "debs")
	if err := Fetch(ctx, status, dest, []string{"media-types", "media-types"}); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Requested, []string{"media-types"}) || len(m.Debs) != 1 || m.Debs[0].Name != "media-types" || m.Debs[0].Architecture != "all" {
		t.Fatalf("manifest = %+v, want exactly media-types", m)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{ManifestFile, m.Debs[0].File}; !reflect.DeepEqual(names, want) {
		t.Errorf("dest holds %v, want %v (no apt lock or partial/)", names, want)
	}

	before, err := os.Stat(filepath.Join(dest, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := Fetch(ctx, status, dest, []string{"media-types"}); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(filepath.Join(dest, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("second Fetch with the same inputs rewrote the manifest; want a no-op")
	}

	// A corrupted file makes the same inputs fetch again.
	if err := os.WriteFile(filepath.Join(dest, m.Debs[0].File), []byte("corrupt"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Fetch(ctx, status, dest, []string{"media-types"}); err != nil {
		t.Fatal(err)
	}
	if err := verify(dest, m); err != nil {
		t.Errorf("after refetch: %v", err)
	}
}

func TestFetchUnknownPackage(t *testing.T) {
	needApt(t)
	tmp := t.TempDir()
	status := filepath.Join(tmp, "status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Fetch(context.Background(), status, filepath.Join(tmp, "debs"), []string{"strata-no-such-package"})
	if !errors.Is(err, ErrApt) {
		t.Fatalf("err = %v, want ErrApt", err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "debs")); !os.IsNotExist(err) {
		t.Errorf("failed Fetch left a destination directory (err %v)", err)
	}
}

func TestFetchInputErrors(t *testing.T) {
	tmp := t.TempDir()
	tests := []struct {
		name   string
		status string
		pkgs   []string
	}{
		{"no packages", filepath.Join(tmp, "status"), nil},
		{"missing status", filepath.Join(tmp, "nope"), []string{"media-types"}},
	}
	if err := os.WriteFile(filepath.Join(tmp, "status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Fetch(context.Background(), tt.status, filepath.Join(tmp, "d"), tt.pkgs); err == nil {
				t.Fatal("want error")
			}
		})
	}
}
