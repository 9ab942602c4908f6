package admission_test

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/strata-sec/strata/gate/admission"
)

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func entry(img v1.Image, os, arch, variant string) mutate.IndexAddendum {
	return mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1,
		Platform: &v1.Platform{OS: os, Architecture: arch, Variant: variant}}}
}

func index(adds ...mutate.IndexAddendum) v1.ImageIndex {
	return mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
}

// pushTo writes an image or index to host/repo:tag (plain HTTP on loopback).
func pushTo(t *testing.T, host, repoTag string, x any) {
	t.Helper()
	ref, err := name.NewTag(host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	switch x := x.(type) {
	case v1.Image:
		err = remote.Write(ref, x)
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, x)
	}
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// TestRegistryResolver resolves tags and digests of images and indexes on
// go-containerregistry's in-memory registry on loopback: the digests the
// kubelet would run on linux/amd64, then the index's own.
func TestRegistryResolver(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	single := randomImage(t)
	amd, arm, i386 := randomImage(t), randomImage(t), randomImage(t)
	multi := index(entry(arm, "linux", "arm64", "v8"), entry(amd, "linux", "amd64", ""), entry(i386, "linux", "386", ""))
	// linux/386 also runs on linux/amd64, but containerd prefers amd64.
	only386 := index(entry(i386, "linux", "386", ""))
	armOnly := index(entry(arm, "linux", "arm64", "v8"))
	nested := index(mutate.IndexAddendum{Add: multi, Descriptor: v1.Descriptor{MediaType: types.OCIImageIndex}})
	pushTo(t, host, "app:single", single)
	pushTo(t, host, "app:multi", multi)
	pushTo(t, host, "app:386", only386)
	pushTo(t, host, "app:arm", armOnly)
	pushTo(t, host, "app:nested", nested)

	repo := host + "/app"
	tests := []struct {
		name    string
		ref     string
		want    []string
		pinned  string // the digest in canonical
		wantErr string
	}{
		{name: "tag of an image", ref: repo + ":single", want: []string{digestOf(t, single)}, pinned: digestOf(t, single)},
		{name: "digest of an image", ref: repo + "@" + digestOf(t, single), want: []string{digestOf(t, single)}, pinned: digestOf(t, single)},
		{name: "tag of an index", ref: repo + ":multi", want: []string{digestOf(t, amd), digestOf(t, multi)}, pinned: digestOf(t, multi)},
		{name: "digest of an index", ref: repo + "@" + digestOf(t, multi), want: []string{digestOf(t, amd), digestOf(t, multi)}, pinned: digestOf(t, multi)},
		{name: "386 runs on amd64", ref: repo + ":386", want: []string{digestOf(t, i386), digestOf(t, only386)}, pinned: digestOf(t, only386)},
		{name: "nested index", ref: repo + ":nested", want: []string{digestOf(t, amd), digestOf(t, nested)}, pinned: digestOf(t, nested)},
		{name: "no amd64 image", ref: repo + ":arm", wantErr: "has no image for linux/amd64"},
		{name: "unknown tag", ref: repo + ":nope", wantErr: "fetch " + repo + ":nope"},
		{name: "not a reference", ref: "UPPER/case:x", wantErr: "is not an image reference"},
	}
	r := admission.RegistryResolver()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, canonical, err := r.Resolve(context.Background(), tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("digests %q, want %q", got, tt.want)
			}
			if want := repo + "@" + tt.pinned; canonical != want {
				t.Errorf("canonical %q, want %q", canonical, want)
			}
		})
	}
}
