package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRegistry: with Registry, each image is pushed to a loopback
// registry and the fetch floor and the registry scan are timed and
// compared in the same run.
func TestRunRegistry(t *testing.T) {
	dir := t.TempDir()
	oci := filepath.Join(dir, "oci")
	writeLayout(t, oci)
	var out, errb bytes.Buffer
	const link = 2e6 // bytes a second: the test image's blobs take a visible time
	rep, err := Run(context.Background(), Config{Refs: []string{oci + ":miner"}, Count: 2, Registry: true, RegistryLink: link, Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errb.String())
	}
	for _, want := range []string{measureRegistryFetch, measureRegistryScan, measureRegistryFetchLink, measureRegistryScanLink,
		"x fetch", "registry scan from loopback", "registry scan over a 2 MB/s link", "the fetch-only time"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if len(rep.Images) != 1 {
		t.Fatalf("%d images", len(rep.Images))
	}
	bi := rep.Images[0]
	for _, name := range []string{measureRegistryFetch, measureRegistryScan, measureRegistryFetchLink, measureRegistryScanLink} {
		if ns, ok := bi.median(name); !ok || ns <= 0 {
			t.Errorf("%s: median %d (present %v)", name, ns, ok)
		}
	}
	// The link paces the fetch: its blobs cannot arrive faster than the
	// link, whatever loopback does.
	var blobs int64
	for _, m := range bi.Measurements {
		if m.Name == measureRegistryFetchLink && len(m.Extra) > 0 {
			blobs = m.Extra[0]["blob_bytes"]
		}
	}
	if fl, _ := bi.median(measureRegistryFetchLink); blobs == 0 || float64(fl) < 0.9*float64(blobs)/link*1e9 {
		t.Errorf("fetch over the %.0f B/s link took %d ns for %d blob bytes: the link does not pace it", link, fl, blobs)
	}
}

func TestRegistryVerdicts(t *testing.T) {
	tests := []struct {
		name          string
		fetch, scan   int64
		want          string // prefix of the verdict; "" = none
		wantInVerdict string
	}{
		{name: "within", fetch: 100, scan: 120, want: "PASS", wantInVerdict: "1.20x"},
		{name: "at the target", fetch: 100, scan: 130, want: "PASS", wantInVerdict: "1.30x"},
		{name: "over", fetch: 100, scan: 250, want: "FAIL", wantInVerdict: "2.50x"},
		{name: "not measured", fetch: 0, scan: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi := Image{Target: "img", Measurements: []Measurement{
				{Name: measureRegistryFetch, MedianNS: tt.fetch},
				{Name: measureRegistryScan, MedianNS: tt.scan, Extra: []map[string]int64{{"concurrency": 3}}},
			}}
			v := registryVerdicts(Report{Images: []Image{bi}})
			if tt.want == "" {
				if len(v) != 0 {
					t.Errorf("verdicts = %q, want none", v)
				}
				return
			}
			if len(v) != 1 || !strings.HasPrefix(v[0], tt.want) || !strings.Contains(v[0], tt.wantInVerdict) || !strings.Contains(v[0], "3 layers at once") {
				t.Errorf("verdicts = %q, want %s with %s", v, tt.want, tt.wantInVerdict)
			}
		})
	}
}
