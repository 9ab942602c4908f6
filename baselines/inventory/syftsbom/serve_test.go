package syftsbom

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/baselines/inventory"
	dt "github.com/strata-sec/strata/detectors/detectortest"
)

// Serve answers every request line in order: a request of another
// protocol, and an image whose layers were not staged, get an error
// response (never an empty package list), and a staged image its packages.
func TestServe(t *testing.T) {
	img := dt.Image(t, v1.Config{}, dt.Run("RUN npm install",
		dt.Text("app/node_modules/left-pad/package.json", `{"name": "left-pad", "version": "1.3.0"}`)))
	manifest, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cache, err := inventory.OpenLayerCache(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cache.Stage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reqs := []inventory.Request{
		{Protocol: inventory.Protocol + 1, Manifest: manifest, Config: config, Dir: st.Dir},
		{Protocol: inventory.Protocol, Manifest: manifest, Config: config, Dir: t.TempDir()},
		{Protocol: inventory.Protocol, Manifest: manifest, Config: config, Dir: st.Dir},
		{Protocol: inventory.Protocol, Manifest: []byte("{"), Config: config, Dir: st.Dir},
	}
	wantErr := []string{"speaks protocol", "was not staged", "", "manifest"}
	var in bytes.Buffer
	for _, r := range reqs {
		b, _ := json.Marshal(r)
		in.Write(append(b, '\n'))
	}
	var out bytes.Buffer
	if err := Serve(context.Background(), &in, &out); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<24)
	i := 0
	for ; sc.Scan(); i++ {
		var resp inventory.Response
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if resp.Protocol != inventory.Protocol || resp.SyftVersion == "" {
			t.Errorf("response %d: protocol %d, syft %q", i, resp.Protocol, resp.SyftVersion)
		}
		if wantErr[i] == "" {
			if resp.Error != "" || len(resp.Packages) != 1 || resp.Packages[0].Name != "left-pad" || resp.Packages[0].Ecosystem != inventory.EcoNPM {
				t.Errorf("response %d: %+v, want the left-pad npm package", i, resp)
			}
			continue
		}
		if !strings.Contains(resp.Error, wantErr[i]) || len(resp.Packages) != 0 {
			t.Errorf("response %d: error %q with %d packages, want an error containing %q", i, resp.Error, len(resp.Packages), wantErr[i])
		}
	}
	if i != len(reqs) {
		t.Errorf("%d responses to %d requests", i, len(reqs))
	}
}
