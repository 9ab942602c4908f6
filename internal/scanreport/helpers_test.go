package scanreport

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/imageref"
)

// update rewrites the golden files: go test ./internal/scanreport/ -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const minerCreatedBy = "ADD xmrig /usr/bin/xmrig"

// minerImage's ENTRYPOINT runs a miner binary with a stratum+tcp pool URL.
func minerImage(t *testing.T) v1.Image {
	t.Helper()
	img := dt.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/xmrig", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", "wallet", "--donate-level", "1"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
		dt.Step{CreatedBy: minerCreatedBy, Files: []dt.File{dt.Exec("usr/bin/xmrig",
			"\x7fELF XMRig 6.21.0 mining.subscribe mining.authorize mining.submit stratum+tcp:// randomx cryptonight --donate-level")}},
		dt.Meta(`ENTRYPOINT ["/usr/bin/xmrig" "-o" "stratum+tcp://pool.supportxmr.com:3333" "-u" "wallet" "--donate-level" "1"]`),
	)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// minerReport scans minerImage as the CLI would a layout entry LAYOUT:miner.
func minerReport(t *testing.T) Report {
	t.Helper()
	rep, err := Scan(context.Background(), hierarchical.New(hierarchical.WithLayerCache(nil)),
		[]imageref.Target{{Name: "LAYOUT:miner", Platform: "linux/amd64", Image: minerImage(t)}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/scanreport/ -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (a deliberate change: rerun with -update and review the diff):\n%s", golden, got)
	}
}
