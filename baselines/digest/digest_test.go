package digest_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/strata-sec/strata/baselines/digest"
	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// must keeps fixture construction on one line; fixtures cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestDetectors(t *testing.T) {
	sample := must(random.Image(512, 4))
	sigs := must(digest.Learn(sample, []int{1, 2}))
	layers := must(sample.Layers())
	dummy := must(random.Layer(256, "application/vnd.docker.image.rootfs.diff.tar.gzip"))

	tests := []struct {
		name        string
		img         v1.Image
		wantImage   bool
		wantLayer   bool
		wantBlamed  []int
		wantDiffIDs int // layer findings naming a diffID
	}{
		{name: "first sighting itself", img: sample, wantImage: true, wantLayer: true, wantBlamed: []int{1, 2}, wantDiffIDs: 4},
		{name: "dummy layer appended", img: must(mutate.AppendLayers(sample, dummy)), wantLayer: true, wantBlamed: []int{1, 2}, wantDiffIDs: 4},
		{name: "random env in config", img: must(mutate.Config(sample, v1.Config{Env: []string{"DUMMY_VAR=4711"}})),
			wantLayer: true, wantBlamed: []int{1, 2}, wantDiffIDs: 4},
		{name: "only a benign layer kept", img: must(mutate.AppendLayers(must(random.Image(64, 0)), layers[0], layers[3]))},
		{name: "malicious layer moved on top of another base", img: must(mutate.AppendLayers(must(random.Image(64, 1)), layers[2])),
			wantLayer: true, wantBlamed: []int{1}, wantDiffIDs: 2},
		{name: "timestamps rewritten", img: must(mutate.Time(sample, time.Unix(4711, 0)))},
		{name: "unrelated image", img: must(random.Image(512, 4))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vi := must(digest.NewImage(sigs).Scan(context.Background(), tt.img))
			if vi.Flagged() != tt.wantImage {
				t.Errorf("digest-image flagged = %v, want %v (%+v)", vi.Flagged(), tt.wantImage, vi.Findings)
			}
			if len(vi.BlamedLayers) != 0 {
				t.Errorf("digest-image blames layers %v", vi.BlamedLayers)
			}
			vl := must(digest.NewLayer(sigs).Scan(context.Background(), tt.img))
			if vl.Flagged() != tt.wantLayer || !reflect.DeepEqual(vl.BlamedLayers, tt.wantBlamed) {
				t.Errorf("digest-layer flagged = %v blamed %v, want %v %v", vl.Flagged(), vl.BlamedLayers, tt.wantLayer, tt.wantBlamed)
			}
			n := 0
			for _, f := range vl.Findings {
				if f.Category != detectors.CategorySignature || f.Layer < 0 || f.DiffID == "" {
					t.Errorf("layer finding lacks provenance: %+v", f)
				}
				n++
			}
			if n != tt.wantDiffIDs {
				t.Errorf("layer findings = %d, want %d", n, tt.wantDiffIDs)
			}
			for _, v := range []detectors.Verdict{vi, vl} {
				if v.Decision == detectors.Incomplete || v.Threshold != 1 || v.Info["signatures_digest"] != sigs.Digest() {
					t.Errorf("verdict shape: %+v", v)
				}
			}
		})
	}
}

func TestLearn(t *testing.T) {
	img := must(random.Image(128, 3))
	tests := []struct {
		name       string
		layers     []int
		wantLayers []int
		wantErr    bool
	}{
		{name: "some layers", layers: []int{2, 0}, wantLayers: []int{0, 2}},
		{name: "duplicates collapse", layers: []int{1, 1}, wantLayers: []int{1}},
		{name: "whole-image signature only", layers: nil, wantLayers: nil},
		{name: "out of range", layers: []int{3}, wantErr: true},
		{name: "negative", layers: []int{-1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := digest.Learn(img, tt.layers)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var got []int
			for _, l := range s.Layers {
				got = append(got, l.Index)
			}
			if !reflect.DeepEqual(got, tt.wantLayers) || len(s.Images) != 1 {
				t.Errorf("learned layers %v, images %d; want %v, 1", got, len(s.Images), tt.wantLayers)
			}
		})
	}
}

func TestSaveLoadMerge(t *testing.T) {
	a := must(digest.Learn(must(random.Image(64, 2)), []int{1}))
	b := must(digest.Learn(must(random.Image(64, 2)), []int{0, 1}))
	m := a.Merge(b).Merge(a)
	if len(m.Images) != 2 || len(m.Layers) != 3 {
		t.Errorf("merged = %d images, %d layers; want 2, 3", len(m.Images), len(m.Layers))
	}
	p := filepath.Join(t.TempDir(), "sigs.json")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	got, err := digest.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) || got.Digest() != m.Digest() {
		t.Errorf("round trip changed the database")
	}
	if _, err := digest.Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Errorf("Load of a missing file succeeded")
	}
	d1, d2 := digest.NewImage(m), digest.NewLayer(m)
	if d1.Name() != "digest-image" || d2.Name() != "digest-layer" || d1.Version() != "1.0.0" || d2.Version() != "1.0.0" {
		t.Errorf("identities: %s %s %s %s", d1.Name(), d1.Version(), d2.Name(), d2.Version())
	}
}

// TestLayerDetectorReadsNoBlobs: digest-layer compares hashes from the
// manifest and config only; it never opens a layer nor asks a layer for its
// diffID (which decompresses and hashes the blob for OCI-layout images).
func TestLayerDetectorReadsNoBlobs(t *testing.T) {
	layers := []v1.Layer{
		dt.GzipLayer(t, must(dt.Tar(dt.Text("etc/os-release", "ID=debian\n"))), 6),
		dt.GzipLayer(t, must(dt.Tar(dt.Exec("usr/bin/minerd", "ELF"))), 6),
	}
	img := dt.LayoutImage(t, t.TempDir(), v1.Config{}, layers, []string{"ADD rootfs /", "COPY minerd /usr/bin/"})
	counted, reads := dt.CountReads(img)
	sigs, err := digest.Learn(counted, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	v, err := digest.NewLayer(sigs).Scan(context.Background(), counted)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Flagged() || !reflect.DeepEqual(v.BlamedLayers, []int{1}) || len(v.Findings) != 2 {
		t.Errorf("verdict %+v, want layer 1 blamed by digest and diffID", v)
	}
	want := must(layers[1].DiffID()).String()
	if v.Findings[1].DiffID != want {
		t.Errorf("diffID %s, want %s", v.Findings[1].DiffID, want)
	}
	if u, c, d := reads.Uncompressed.Load(), reads.Compressed.Load(), reads.DiffID.Load(); u+c+d != 0 {
		t.Errorf("layer content touched: Uncompressed %d, Compressed %d, DiffID %d", u, c, d)
	}
}

// TestLayerDetectorMissingDiffIDs: a config without a diffID per layer is
// an integrity error (invalid), unless a layer digest still matches
// (malicious); it never makes the scan fail or pass as clean.
func TestLayerDetectorMissingDiffIDs(t *testing.T) {
	benign := dt.Blob{Data: dt.Gzip(t, must(dt.Tar(dt.Text("etc/os-release", "ID=debian\n"))), 6)}
	miner := dt.Blob{Data: dt.Gzip(t, must(dt.Tar(dt.Exec("usr/bin/minerd", "ELF"))), 6)}
	sigs := must(digest.Learn(dt.RawImage(t, v1.ConfigFile{}, benign, miner), []int{1}))
	tests := []struct {
		name string
		img  v1.Image
		want detectors.Decision
	}{
		{name: "benign layer", img: dt.RawImageWithoutDiffIDs(t, v1.ConfigFile{}, benign), want: detectors.Invalid},
		{name: "known-bad layer digest", img: dt.RawImageWithoutDiffIDs(t, v1.ConfigFile{}, benign, miner), want: detectors.Malicious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := digest.NewLayer(sigs).Scan(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != tt.want {
				t.Errorf("decision %s, want %s (findings %+v)", v.Decision, tt.want, v.Findings)
			}
			integrity := false
			for _, f := range v.Findings {
				integrity = integrity || (f.Integrity && f.Category == detectors.CategoryNotScanned && f.Evidence != "")
			}
			if !integrity {
				t.Errorf("no integrity finding: %+v", v.Findings)
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	dt.RemoveLargeImage()
	os.Exit(code)
}

// BenchmarkLayerDetectorLarge scans dt.LargeImage (an OCI layout with a
// ~270 MB-uncompressed layer): the cost must not depend on layer size.
func BenchmarkLayerDetectorLarge(b *testing.B) {
	img, _ := dt.LargeImage(b)
	d := digest.NewLayer(must(digest.Learn(img, []int{1})))
	b.ResetTimer()
	for range b.N {
		if _, err := d.Scan(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}
