package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/internal/scanreport"
	"github.com/strata-sec/strata/internal/testenv"
)

// The images of this file are built here rather than borrowed from
// scan_test.go, so the registry test does not move when those do.

func regImage(t *testing.T, arch, variant string, cfg v1.Config, steps ...dt.Step) v1.Image {
	t.Helper()
	img := dt.Image(t, cfg, steps...)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = "linux", arch, variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func regCleanImage(t *testing.T, arch, variant string) v1.Image {
	t.Helper()
	return regImage(t, arch, variant, v1.Config{Cmd: []string{"/usr/local/bin/app"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
		dt.Run("echo hello > /etc/motd", dt.Text("etc/motd", "hello\n")),
		dt.Step{CreatedBy: "COPY app /usr/local/bin/app", Files: []dt.File{dt.Exec("usr/local/bin/app", "#!/bin/sh\necho serving "+arch+"\n")}},
	)
}

// regMinerImage ships an xmrig-like binary in layer 1 and runs it with a
// stratum pool from ENTRYPOINT.
func regMinerImage(t *testing.T, arch string) v1.Image {
	t.Helper()
	return regImage(t, arch, "", v1.Config{Entrypoint: []string{"/usr/bin/xmrig", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", "wallet", "--donate-level", "1"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
		dt.Step{CreatedBy: "ADD xmrig /usr/bin/xmrig", Files: []dt.File{dt.Exec("usr/bin/xmrig",
			"\x7fELF XMRig 6.21.0 mining.subscribe mining.authorize mining.submit stratum+tcp:// randomx cryptonight --donate-level "+arch)}},
		dt.Meta(`ENTRYPOINT ["/usr/bin/xmrig" "-o" "stratum+tcp://pool.supportxmr.com:3333" "-u" "wallet" "--donate-level" "1"]`),
	)
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// TestRegistryScan pushes images to a real registry (Debian's
// docker-registry, started by testenv on loopback) and scans them by
// reference through the CLI: verdicts, exit codes, and one target per
// platform of a multi-platform index.
func TestRegistryScan(t *testing.T) {
	host := testenv.Registry(t)
	repo := host + "/strata/app"
	push := func(tag string, img v1.Image) {
		t.Helper()
		ref, err := name.NewTag(repo+":"+tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}

	clean, miner := regCleanImage(t, "amd64", ""), regMinerImage(t, "amd64")
	push("clean", clean)
	push("miner", miner)

	// The index: a clean amd64, a miner arm64, a clean arm/v7 (variant),
	// and a BuildKit-style attestation manifest that must not be scanned.
	multiAMD, multiARM, multiV7 := regCleanImage(t, "amd64", ""), regMinerImage(t, "arm64"), regCleanImage(t, "arm", "v7")
	attest := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: multiAMD, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: multiARM, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: multiV7, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}}},
		mutate.IndexAddendum{Add: attest, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": digestOf(t, multiAMD)}}},
	), types.OCIImageIndex)
	multiRef, err := name.NewTag(repo+":multi", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(multiRef, idx); err != nil {
		t.Fatalf("push index %s: %v", multiRef, err)
	}

	type target struct{ platform, decision, digest string }
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []target // with --format json
		wantOut  []string // in the table, in this order
		wantErr  string
	}{
		{name: "clean", args: []string{repo + ":clean"},
			want:    []target{{"linux/amd64", "clean", digestOf(t, clean)}},
			wantOut: []string{repo + ":clean (linux/amd64)", "decision   CLEAN", "RUN echo hello > /etc/motd"}},
		{name: "miner", args: []string{repo + ":miner"}, wantCode: 1,
			want:    []target{{"linux/amd64", "malicious", digestOf(t, miner)}},
			wantOut: []string{repo + ":miner (linux/amd64)", "decision   MALICIOUS", "ADD xmrig /usr/bin/xmrig", "<- blamed", "usr/bin/xmrig"},
			wantErr: repo + ":miner (linux/amd64) is malicious"},
		{name: "miner by digest", args: []string{repo + "@" + digestOf(t, miner)}, wantCode: 1,
			want: []target{{"linux/amd64", "malicious", digestOf(t, miner)}}},
		{name: "multi-platform", args: []string{repo + ":multi"}, wantCode: 1,
			want: []target{
				{"linux/amd64", "clean", digestOf(t, multiAMD)},
				{"linux/arm64", "malicious", digestOf(t, multiARM)},
				{"linux/arm/v7", "clean", digestOf(t, multiV7)},
			},
			wantOut: []string{"(linux/amd64)", "CLEAN", "(linux/arm64)", "MALICIOUS", "(linux/arm/v7)", "CLEAN",
				"3 targets: 1 malicious, 0 invalid, 0 incomplete, 2 clean"},
			wantErr: repo + ":multi (linux/arm64) is malicious"},
		{name: "multi-platform --platform arm64", args: []string{"--platform", "linux/arm64", repo + ":multi"}, wantCode: 1,
			want: []target{{"linux/arm64", "malicious", digestOf(t, multiARM)}}},
		{name: "multi-platform --platform amd64", args: []string{"--platform", "linux/amd64", repo + ":multi"},
			want: []target{{"linux/amd64", "clean", digestOf(t, multiAMD)}}},
		{name: "multi-platform absent platform", args: []string{"--platform", "linux/s390x", repo + ":multi"}, wantCode: 2,
			wantErr: "platforms: linux/amd64, linux/arm/v7, linux/arm64"}, // sorted
		{name: "unknown tag", args: []string{repo + ":nope"}, wantCode: 2, wantErr: "fetch " + repo + ":nope"},
		{name: "unknown repo", args: []string{host + "/strata/none:latest"}, wantCode: 2, wantErr: "fetch " + host + "/strata/none:latest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The table view and its exit code.
			out, errOut, code := scan(t, append([]string{"--insecure"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr/error lacks %q:\n%s", tt.wantErr, errOut)
			}
			rest := out
			for _, w := range tt.wantOut {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout lacks %q after the earlier wants:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if tt.want == nil {
				return
			}

			// The JSON view: one target per platform, with the pushed digests.
			out, errOut, code = scan(t, append([]string{"--insecure", "--format", "json"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("--format json: exit code %d, want %d\nstderr:\n%s", code, tt.wantCode, errOut)
			}
			var rep scanreport.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			var got []target
			for _, tg := range rep.Targets {
				got = append(got, target{tg.Platform, tg.Decision, tg.ManifestDigest})
				if !strings.HasPrefix(tg.Name, repo) {
					t.Errorf("target name %q does not name the reference %q", tg.Name, repo)
				}
				if len(tg.Layers) == 0 {
					t.Errorf("%s (%s): no layers reported", tg.Name, tg.Platform)
				}
				if tg.Decision == "malicious" && (len(tg.BlamedLayers) != 1 || tg.BlamedLayers[0] != 1) {
					t.Errorf("%s (%s): blamed layers %v, want [1] (ADD xmrig)", tg.Name, tg.Platform, tg.BlamedLayers)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("targets %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("target %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
