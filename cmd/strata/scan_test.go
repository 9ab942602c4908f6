package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

const minerCreatedBy = "ADD xmrig /usr/bin/xmrig"

func withPlatform(t *testing.T, img v1.Image, arch string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func cleanImage(t *testing.T) v1.Image {
	t.Helper()
	return withPlatform(t, dt.Image(t, v1.Config{Cmd: []string{"/usr/local/bin/app"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
		dt.Run("echo hello > /etc/motd", dt.Text("etc/motd", "hello\n")),
		dt.Step{CreatedBy: "COPY app /usr/local/bin/app", Files: []dt.File{dt.Exec("usr/local/bin/app", "#!/bin/sh\necho serving\n")}},
	), "amd64")
}

// minerImage's ENTRYPOINT runs a miner binary with a stratum+tcp pool URL.
func minerImage(t *testing.T) v1.Image {
	t.Helper()
	return withPlatform(t, dt.Image(t, v1.Config{Entrypoint: []string{"/usr/bin/xmrig", "-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", "wallet", "--donate-level", "1"}},
		dt.Step{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{dt.Text("etc/os-release", "ID=debian\n")}},
		dt.Step{CreatedBy: minerCreatedBy, Files: []dt.File{dt.Exec("usr/bin/xmrig",
			"\x7fELF XMRig 6.21.0 mining.subscribe mining.authorize mining.submit stratum+tcp:// randomx cryptonight --donate-level")}},
		dt.Meta(`ENTRYPOINT ["/usr/bin/xmrig" "-o" "stratum+tcp://pool.supportxmr.com:3333" "-u" "wallet" "--donate-level" "1"]`),
	), "amd64")
}

func writeLayout(t *testing.T, dir string, imgs map[string]v1.Image) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for n, img := range imgs {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": n})); err != nil {
			t.Fatal(err)
		}
	}
}

func scan(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"scan"}, args...), &out, &errb)
	if err != nil {
		code = exitCode(err)
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func TestScan(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "layout")
	writeLayout(t, dir, map[string]v1.Image{"clean": cleanImage(t), "miner": minerImage(t)})
	archive := filepath.Join(tmp, "miner.tar")
	if err := tarball.WriteToFile(archive, name.MustParseReference("miner:1").(name.Tag), minerImage(t)); err != nil {
		t.Fatal(err)
	}
	multi := filepath.Join(tmp, "multi")
	p, err := layout.Write(multi, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: cleanImage(t), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: withPlatform(t, minerImage(t), "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "multi"})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host + "/repo:miner")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, minerImage(t)); err != nil {
		t.Fatal(err)
	}

	// Known samples learned from the miner image's binary layer, as
	// experiments learn them from the first sighting.
	ks, err := hierarchical.LearnKnownSamples(context.Background(), minerImage(t), []int{1})
	if err != nil || len(ks) == 0 {
		t.Fatalf("learn known samples: %v (%d)", err, len(ks))
	}
	samples := filepath.Join(tmp, "known-samples.jsonl")
	var ksb bytes.Buffer
	if err := hierarchical.WriteKnownSamples(&ksb, ks); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(samples, ksb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	// A path escaping the root (integrity: invalid) and a path deeper than
	// the walker's limit (incomplete).
	issues := filepath.Join(tmp, "issues")
	writeLayout(t, issues, map[string]v1.Image{
		"escape": dt.Image(t, v1.Config{}, dt.Step{CreatedBy: "ADD x.tar /", Files: []dt.File{dt.Text("../../etc/cron.d/x", "* * * * * root true\n")}}),
		"deep":   dt.Image(t, v1.Config{}, dt.Step{CreatedBy: "ADD deep.tar /", Files: []dt.File{dt.Text(strings.Repeat("d/", 300)+"f", "x\n")}}),
	})

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // in this order
		wantErr  string
	}{
		{name: "clean", args: []string{dir + ":clean"}, wantOut: []string{"decision   CLEAN", "RUN echo hello > /etc/motd"}},
		{name: "miner", args: []string{dir + ":miner"}, wantCode: 1,
			wantOut: []string{"decision   MALICIOUS", "1      ", minerCreatedBy, "usr/bin/xmrig", "config", "config:Entrypoint"},
			wantErr: dir + ":miner (linux/amd64) is malicious"},
		{name: "quiet", args: []string{"--quiet", dir + ":miner"}, wantCode: 1},
		{name: "fail-on incomplete, clean", args: []string{"--fail-on", "incomplete", dir + ":clean"}},
		{name: "fail-on never, malicious", args: []string{"--fail-on", "never", dir + ":miner"},
			wantOut: []string{"MALICIOUS"}, wantErr: "warning: " + dir + ":miner (linux/amd64) is malicious (not failing: --fail-on never)"},
		{name: "incomplete fails closed", args: []string{issues + ":deep"}, wantCode: 3,
			wantOut: []string{"decision   INCOMPLETE", "? NOT SCANNED path-limit"}, wantErr: issues + ":deep is incomplete (layer 0: path-limit)"},
		{name: "invalid fails closed", args: []string{issues + ":escape"}, wantCode: 4,
			wantOut: []string{"decision   INVALID", "x INTEGRITY path-escape  ../../etc/cron.d/x"}, wantErr: issues + ":escape is invalid (layer 0: path-escape)"},
		{name: "invalid, fail-on invalid", args: []string{"--fail-on", "invalid", issues + ":escape"}, wantCode: 4},
		{name: "incomplete, fail-on invalid", args: []string{"--fail-on", "invalid", issues + ":deep"}, wantErr: "warning: " + issues + ":deep is incomplete"},
		{name: "fail-on malicious opts out", args: []string{"--fail-on", "malicious", issues + ":escape"},
			wantOut: []string{"decision   INVALID"}, wantErr: "warning: " + issues + ":escape is invalid (layer 0: path-escape) (not failing: --fail-on malicious)"},
		{name: "quiet still warns", args: []string{"--quiet", "--fail-on", "malicious", issues + ":deep"}, wantErr: "is incomplete"},
		{name: "ambiguous layout", args: []string{dir}, wantCode: 2, wantErr: "names: clean, miner"},
		{name: "docker archive", args: []string{archive}, wantCode: 1, wantOut: []string{"miner.tar:miner:1"}},
		{name: "multi-platform", args: []string{multi}, wantCode: 1,
			wantOut: []string{"(linux/amd64)", "CLEAN", "(linux/arm64)", "MALICIOUS", "2 targets: 1 malicious, 0 invalid, 0 incomplete, 1 clean"}},
		{name: "multi-platform one", args: []string{"--platform", "linux/amd64", multi}, wantOut: []string{"(linux/amd64)", "CLEAN"}},
		{name: "registry", args: []string{"--insecure", host + "/repo:miner"}, wantCode: 1, wantOut: []string{host + "/repo:miner", "MALICIOUS"}},
		{name: "bad format", args: []string{"--format", "xml", dir + ":clean"}, wantCode: 2, wantErr: "unknown --format"},
		{name: "bad fail-on", args: []string{"--fail-on", "clean", dir}, wantCode: 2, wantErr: "unknown --fail-on"},
		{name: "no ref", args: nil, wantCode: 2, wantErr: "name one image"},
		{name: "signals: wallet alone misses the miner", args: []string{"--signals", "wallet", dir + ":miner"}, wantOut: []string{"decision   CLEAN"}},
		{name: "signals: config and binary", args: []string{"--signals", "behavior,network", dir + ":miner"}, wantCode: 1, wantOut: []string{"MALICIOUS", "entrypoint-miner"}},
		{name: "signals: unknown", args: []string{"--signals", "bogus", dir + ":miner"}, wantCode: 2, wantErr: `unknown signal "bogus"`},
		{name: "known samples: hash alone", args: []string{"--signals", "hash", "--known-samples", samples, dir + ":miner"},
			wantOut: []string{"decision   CLEAN", "fuzzy-hash-match", "usr/bin/xmrig"}},
		{name: "known samples: no hash signal", args: []string{"--signals", "behavior", "--known-samples", samples, dir + ":miner"}, wantCode: 1, wantOut: []string{"MALICIOUS"}},
		{name: "known samples: missing file", args: []string{"--known-samples", filepath.Join(tmp, "nope.jsonl"), dir + ":miner"}, wantCode: 2, wantErr: "--known-samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := scan(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr/error lacks %q:\n%s", tt.wantErr, errOut)
			}
			if strings.HasPrefix(tt.name, "quiet") && out != "" {
				t.Errorf("--quiet printed:\n%s", out)
			}
			rest := out
			for _, w := range tt.wantOut {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout lacks %q after the earlier wants:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestScanTableFindingUnderLayer checks the per-layer view: the miner
// binary's findings come after its layer's line and before the config.
func TestScanTableFindingUnderLayer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string]v1.Image{"miner": minerImage(t)})
	out, _, _ := scan(t, dir)
	layer := strings.Index(out, "  1      ")
	finding := strings.Index(out, "! behavior/miner-binary")
	cfg := strings.Index(out, "  config ")
	if layer < 0 || finding < layer || cfg < finding || !strings.Contains(out[layer:finding], minerCreatedBy) {
		t.Errorf("want layer 1 (%s), then its miner-binary finding, then config:\n%s", minerCreatedBy, out)
	}
}

// TestScanInterrupted: a cancelled context (what SIGINT/SIGTERM do in main)
// stops the scan at once with exit code 130 and no report.
func TestScanInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string]v1.Image{"miner": minerImage(t)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"scan", dir}, &out, &errb)
	if code := exitCode(err); code != 130 {
		t.Errorf("exit code %d (err %v), want 130", code, err)
	}
	if out.Len() != 0 {
		t.Errorf("an interrupted scan printed a report:\n%s", out.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to stop", d)
	}
}

// TestScanCPUProfile: --cpuprofile writes a profile pprof can read (gzip'd
// protobuf) whatever the verdict, and a path it cannot create is an error
// before any scan.
func TestScanCPUProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string]v1.Image{"miner": minerImage(t)})
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	if _, errs, code := scan(t, "--cpuprofile", prof, dir); code != 1 {
		t.Fatalf("exit %d, want 1 (malicious): %s", code, errs)
	}
	b, err := os.ReadFile(prof)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile: %d bytes, %v; want a gzip'd pprof profile", len(b), err)
	}
	if _, errs, code := scan(t, "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir"), dir); code != 2 || !strings.Contains(errs, "--cpuprofile") {
		t.Errorf("unwritable profile: exit %d, %q; want 2 naming --cpuprofile", code, errs)
	}
}
