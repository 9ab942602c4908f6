package inventory

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/testenv"
)

// layeredImage is a Debian-like image of four layers whose later layers
// delete (whiteout, opaque dir) packages earlier ones added; leftPad is
// left-pad's package.json body in the last layer.
func layeredImage(t testing.TB, cfg v1.Config, leftPad string) v1.Image {
	t.Helper()
	return dt.Image(t, cfg,
		dt.Run("/bin/sh -c #(nop) ADD file:base in /", dt.Text("var/lib/dpkg/status", dpkgStatus), dt.Text("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
		dt.Run("RUN npm install",
			dt.Text("app/node_modules/coa/package.json", pkgJSON("coa", "2.0.4")),
			dt.Text("app/node_modules/rc/package.json", pkgJSON("rc", "1.2.9")),
			dt.Text("opt/lib/node_modules/klow/package.json", pkgJSON("klow", "1.0.0")),
			dt.Text("srv/node_modules/express/package.json", pkgJSON("express", "4.18.2"))),
		dt.Run("RUN rm -rf app/node_modules/rc opt/lib && cleanup",
			dt.Whiteout("app/node_modules/rc"), dt.Opaque("opt/lib"),
			dt.Text("opt/lib/node_modules/okhsa/package.json", pkgJSON("okhsa", "1.0.0"))),
		dt.Run("RUN npm install left-pad", dt.Text("srv/node_modules/left-pad/package.json", leftPad)),
	)
}

// verdictWithoutTime drops sbom_millis, the one field that is a time.
func verdictWithoutTime(v detectors.Verdict) detectors.Verdict {
	info := map[string]string{}
	for k, val := range v.Info {
		if k != "sbom_millis" {
			info[k] = val
		}
	}
	v.Info = info
	return v
}

// A cached SBOM gives the same verdict as cataloging the image anew, on an
// image with whiteouts and opaque dirs and on variants that change only
// the config (they share the entry); changing one file's bytes, the
// platform or the helper misses.
func TestSBOMCacheMatchesUncached(t *testing.T) {
	helper := testenv.SBOMHelper(t)
	layers, err := OpenLayerCache(filepath.Join(t.TempDir(), "layers"), -1)
	if err != nil {
		t.Fatal(err)
	}
	sboms, err := OpenSBOMCache(filepath.Join(t.TempDir(), "sboms"), -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := layeredImage(t, v1.Config{}, pkgJSON("left-pad", "1.3.0"))
	relabelled, err := mutate.Config(base, v1.Config{Env: []string{"POOL=stratum+tcp://pool.example.com:3333"}, Labels: map[string]string{"org.example": "x"}, Entrypoint: []string{"/bin/minerd"}})
	if err != nil {
		t.Fatal(err)
	}
	relabelled, err = mutate.CreatedAt(relabelled, v1.Time{Time: time.Unix(1e9, 0)})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := base.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture = "arm64"
	otherArch, err := mutate.ConfigFile(base, cf)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		img     v1.Image
		wantHit bool
	}{
		{name: "first scan", img: base},
		{name: "same image again", img: base, wantHit: true},
		{name: "only the config differs", img: relabelled, wantHit: true},
		{name: "one file's bytes differ", img: layeredImage(t, v1.Config{}, pkgJSON("left-pad", "1.3.1"))},
		{name: "another architecture", img: otherArch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// New detectors each time: their in-process memo must not answer.
			cached := New(WithHelper(helper), WithLayerCache(layers), WithSBOMCache(sboms))
			defer cached.Close()
			uncached := New(WithHelper(helper), WithLayerCache(layers))
			defer uncached.Close()
			before := sboms.Stats()
			got, err := cached.Scan(ctx, tt.img)
			if err != nil {
				t.Fatal(err)
			}
			after := sboms.Stats()
			if hit := after.Hits > before.Hits; hit != tt.wantHit {
				t.Errorf("cache hit = %v, want %v (stats %+v -> %+v)", hit, tt.wantHit, before, after)
			}
			want, err := uncached.Scan(ctx, tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(verdictWithoutTime(got), verdictWithoutTime(want)) {
				t.Errorf("cached verdict differs from a fresh catalog:\ncached: %+v\nfresh:  %+v", got, want)
			}
		})
	}
	// The fixture exercises what it claims: deleted packages are gone, the
	// one re-added under the opaque dir is found in its layer.
	v, err := New(WithHelper(helper), WithLayerCache(layers), WithSBOMCache(sboms)).Scan(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]int{}
	for _, f := range v.Findings {
		rules[f.Rule] = f.Layer
	}
	want := map[string]int{"inventory:npm/coa": 1, "inventory:npm/okhsa": 2}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("findings (rule -> layer) = %v, want %v", rules, want)
	}
}

// The key holds the helper, the platform and the layers, nothing else of
// the config.
func TestSBOMKey(t *testing.T) {
	base := layeredImage(t, v1.Config{}, pkgJSON("left-pad", "1.3.0"))
	env, err := mutate.Config(base, v1.Config{Env: []string{"A=1"}, Cmd: []string{"/bin/sh"}})
	if err != nil {
		t.Fatal(err)
	}
	windows, err := mutate.ConfigFile(base, func() *v1.ConfigFile {
		cf, err := base.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS = "windows"
		return cf
	}())
	if err != nil {
		t.Fatal(err)
	}
	want, err := sbomKey("helper-a", base)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		helper   string
		img      v1.Image
		wantSame bool
	}{
		{name: "env and cmd differ", helper: "helper-a", img: env, wantSame: true},
		{name: "other helper", helper: "helper-b", img: base},
		{name: "other OS", helper: "helper-a", img: windows},
		{name: "other layer content", helper: "helper-a", img: layeredImage(t, v1.Config{}, pkgJSON("left-pad", "1.3.1"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sbomKey(tt.helper, tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if (got == want) != tt.wantSame {
				t.Errorf("key %s\nbase %s\nsame = %v, want %v", got, want, got == want, tt.wantSame)
			}
		})
	}
}

// A damaged entry, or one written for another key, is a miss (and is
// replaced), never a wrong SBOM; entries beyond the bound are evicted,
// least recently used first.
func TestSBOMCacheEntries(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenSBOMCache(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s := &SBOM{SyftVersion: "v1", Packages: []Package{{Ecosystem: EcoNPM, Type: "npm", Name: "coa", Version: "2.0.4", Locations: []Location{{Path: "/a", DiffID: "sha256:1"}}}}}
	if err := c.Put("k1", s); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get("k1"); !ok || !reflect.DeepEqual(got, s) {
		t.Fatalf("Get(k1) = %+v, %v; want %+v", got, ok, s)
	}
	other, _ := json.Marshal(sbomEntry{Key: "k2", Packages: s.Packages})
	tests := []struct {
		name string
		body []byte
	}{
		{name: "truncated", body: []byte(`{"key":"k1","pack`)},
		{name: "another key's entry", body: other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(c.path("k1"), tt.body, 0o644); err != nil {
				t.Fatal(err)
			}
			if got, ok := c.Get("k1"); ok {
				t.Fatalf("Get on a %s entry = %+v, want a miss", tt.name, got)
			}
			if _, err := os.Stat(c.path("k1")); !os.IsNotExist(err) {
				t.Errorf("the %s entry was kept: %v", tt.name, err)
			}
		})
	}

	small, err := OpenSBOMCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := small.Put("k1", s); err != nil {
		t.Fatal(err)
	}
	if _, ok := small.Get("k1"); ok {
		t.Error("a cache bounded to 0 bytes kept an entry")
	}
	if st := small.Stats(); st.Misses != 1 || st.PutErrors != 0 {
		t.Errorf("stats %+v, want 1 miss and no failed write", st)
	}
}
