package inventory

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/testenv"
)

const dpkgStatus = `Package: base-files
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files

`

func pkgJSON(name, version string) string {
	return `{"name": "` + name + `", "version": "` + version + `", "description": "test fixture, no code"}`
}

// A listed npm release in a layer is found, with its file and layer; a
// benign package of similar name and a fixed release are not.
func TestScanFindsListedPackage(t *testing.T) {
	tests := []struct {
		name       string
		app        []dt.File
		want       detectors.Decision
		wantLayer  int
		wantPath   string
		wantSource string
	}{
		{
			name: "hijacked ua-parser-js",
			app: []dt.File{
				dt.Text("app/node_modules/ua-parser-js/package.json", pkgJSON("ua-parser-js", "0.7.29")),
				dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0")),
			},
			want: detectors.Malicious, wantLayer: 1, wantPath: "/app/node_modules/ua-parser-js/package.json",
			wantSource: "GHSA-pjwm-rvh2-c87w",
		},
		{
			name: "fixed ua-parser-js and a similar name",
			app: []dt.File{
				dt.Text("app/node_modules/ua-parser-js/package.json", pkgJSON("ua-parser-js", "0.7.30")),
				dt.Text("app/node_modules/ua-parser/package.json", pkgJSON("ua-parser", "0.7.29")),
			},
			want: detectors.Clean,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := dt.Image(t, v1.Config{},
				dt.Run("/bin/sh -c #(nop) ADD file:base in /", dt.Text("var/lib/dpkg/status", dpkgStatus), dt.Text("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
				dt.Run("RUN npm install", tt.app...),
			)
			d := New(WithTempDir(t.TempDir()), WithHelper(testenv.SBOMHelper(t)))
			defer d.Close()
			v, err := d.Scan(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != tt.want {
				t.Fatalf("decision %s, want %s; findings %+v; info %v", v.Decision, tt.want, v.Findings, v.Info)
			}
			if v.Info["packages"] != "3" {
				t.Errorf("packages = %s (%s), want 3 (base-files and two npm packages)", v.Info["packages"], v.Info["packages_by_type"])
			}
			if tt.want != detectors.Malicious {
				if len(v.Findings) != 0 {
					t.Errorf("findings %+v, want none", v.Findings)
				}
				return
			}
			if len(v.Findings) != 1 {
				t.Fatalf("findings %+v, want 1", v.Findings)
			}
			f := v.Findings[0]
			if f.Layer != tt.wantLayer || f.Path != tt.wantPath || !strings.Contains(f.Evidence, tt.wantSource) || !strings.Contains(f.CreatedBy, "npm install") {
				t.Errorf("finding %+v, want layer %d path %s source %s created_by RUN npm install", f, tt.wantLayer, tt.wantPath, tt.wantSource)
			}
			if len(v.BlamedLayers) != 1 || v.BlamedLayers[0] != tt.wantLayer {
				t.Errorf("blamed %v, want [%d]", v.BlamedLayers, tt.wantLayer)
			}
		})
	}
}

// fakeEngine stands in for the multi-engine baseline.
type fakeEngine struct{ v detectors.Verdict }

func (fakeEngine) Name() string    { return "multiengine" }
func (fakeEngine) Version() string { return "test" }
func (f fakeEngine) Scan(context.Context, v1.Image) (detectors.Verdict, error) {
	return f.v, nil
}

func TestWithClamAV(t *testing.T) {
	clean := dt.Image(t, v1.Config{}, dt.Run("RUN true", dt.Text("app/node_modules/left-pad/package.json", pkgJSON("left-pad", "1.3.0"))))
	listed := dt.Image(t, v1.Config{}, dt.Run("RUN true", dt.Text("app/node_modules/coa/package.json", pkgJSON("coa", "2.0.4"))))
	clamHit := detectors.Finding{Category: detectors.CategorySignature, Rule: "clamav:Strata.Sample.1", Layer: 0, Path: "/bin/minerd"}
	hiddenHit := clamHit
	hiddenHit.Hidden, hiddenHit.RemovedBy = true, 1
	yaraHit := detectors.Finding{Category: detectors.CategorySignature, Rule: "yara:strata_sample_1", Layer: 0, Path: "/bin/minerd"}
	shaHit := detectors.Finding{Category: detectors.CategorySignature, Rule: "sha256:abc", Layer: 0, Path: "/bin/minerd"}
	tests := []struct {
		name      string
		img       v1.Image
		engine    []detectors.Finding
		want      detectors.Decision
		wantParts string
	}{
		{name: "nothing", img: clean, want: detectors.Clean},
		{name: "inventory only", img: listed, want: detectors.Malicious, wantParts: "inventory"},
		{name: "clamav only", img: clean, engine: []detectors.Finding{clamHit}, want: detectors.Malicious, wantParts: "clamav"},
		{name: "both", img: listed, engine: []detectors.Finding{clamHit}, want: detectors.Malicious, wantParts: "inventory,clamav"},
		{name: "yara and sha256 do not count", img: clean, engine: []detectors.Finding{yaraHit, shaHit}, want: detectors.Clean},
		{name: "a deleted file is not in the squashed image", img: clean, engine: []detectors.Finding{hiddenHit}, want: detectors.Clean},
	}
	inv := New(WithTempDir(t.TempDir()), WithHelper(testenv.SBOMHelper(t)))
	defer inv.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewWithClamAV(inv, fakeEngine{detectors.Verdict{Findings: tt.engine}})
			v, err := d.Scan(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if v.Decision != tt.want || v.Info["parts_fired"] != tt.wantParts {
				t.Errorf("decision %s parts %q, want %s %q (findings %+v)", v.Decision, v.Info["parts_fired"], tt.want, tt.wantParts, v.Findings)
			}
		})
	}
}
