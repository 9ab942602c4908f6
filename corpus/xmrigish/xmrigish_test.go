package xmrigish_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/strata-sec/strata/corpus/base"
	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/buildkit"
	"github.com/strata-sec/strata/internal/store"
	"github.com/strata-sec/strata/internal/testenv"
)

// binDir holds the stand-in compiled once per test binary (TestMain).
var (
	binDir   string
	binPath  string
	binBuild string // how it was linked, for the logs
	binErr   error
)

func TestMain(m *testing.M) {
	code := func() int {
		var err error
		binDir, err = os.MkdirTemp("", "xmrigish-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(binDir)
		binPath, binBuild, binErr = compile(binDir, "xmrigish")
		if binErr == nil {
			binErr = compileTestCopy(binDir)
		}
		return testenv.Main(m)
	}()
	os.Exit(code)
}

// Wallet is a syntactically valid Monero primary address (Monero documentation, "Addresses":
// ^4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}$) that belongs to nobody: it is English
// words padded with the digits 1-9, not the base58 encoding of a key pair,
// and its last 4 decoded bytes are not the Keccak checksum of the rest, so a
// Monero wallet rejects it. Only the detector's pattern sees it as an address.
const Wallet = "4BStrataTestVectorNotAMoneroAddressNoKeysExistForThisString123456789123456789123456789123456789"

// Pool is a real public pool endpoint (Falco's miner_domains, falcosecurity/rules rules/falco-sandbox_rules.yaml).
// The stand-in refuses it before any socket exists.
const Pool = "pool.supportxmr.com:3333"

var walletRe = regexp.MustCompile(`^4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}$`)

// drupalSpecific are strings of corpus/drupal's stand-in (cpuminer-like
// minerd, its repository and pool). No finding on these images may rely on
// them: the rules must recognise this independent XMRig-like stand-in from
// public XMRig characteristics.
var drupalSpecific = []string{"cpuminer-multi/0.1", "minerd", "OhGodAPet", "cpuminer", "minergate", "lucasjones", "mining.subscribe"}

// compile builds src/*.c with gcc: static when glibc's libc.a is installed
// (libc6-dev), dynamic otherwise (busybox has no dynamic loader, so the
// dynamic build is only good for the unit test).
func compile(dir, name string, defines ...string) (string, string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", "", fmt.Errorf("gcc not found: %w", err)
	}
	srcs, err := filepath.Glob("src/*.c")
	if err != nil || len(srcs) == 0 {
		return "", "", fmt.Errorf("no C sources in src/ (%v)", err)
	}
	out := filepath.Join(dir, name)
	args := append([]string{"-O2", "-Wall", "-Wextra", "-Werror", "-std=gnu11", "-o", out}, defines...)
	mode := "dynamic"
	if libc, err := exec.Command(gcc, "-print-file-name=libc.a").Output(); err == nil {
		if p := strings.TrimSpace(string(libc)); filepath.IsAbs(p) {
			if _, err := os.Stat(p); err == nil {
				args = append(args, "-static")
				mode = "static (" + p + ")"
			}
		}
	}
	args = append(args, srcs...)
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("gcc %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return out, mode, nil
}

func standIn(t *testing.T) string {
	t.Helper()
	if binErr != nil {
		t.Fatalf("build the C stand-in: %v", binErr)
	}
	return binPath
}

// configJSON is an xmrig-style config.json (xmrig/xmrig src/config.json
// layout, xmrig/xmrig src/config.json) with the given pool.
func configJSON(pool string) string {
	return `{
    "api": {"id": null, "worker-id": null},
    "http": {"enabled": false, "host": "127.0.0.1", "port": 0, "access-token": null, "restricted": true},
    "autosave": true,
    "background": false,
    "colors": false,
    "randomx": {"init": -1, "mode": "fast", "1gb-pages": true, "rdmsr": true, "wrmsr": true, "numa": true},
    "cpu": {"enabled": true, "huge-pages": true, "huge-pages-jit": true, "hw-aes": null, "priority": null, "max-threads-hint": 90, "asm": true},
    "donate-level": 1,
    "donate-over-proxy": 1,
    "log-file": null,
    "pools": [
        {
            "algo": "rx/0",
            "coin": null,
            "url": "` + pool + `",
            "user": "` + Wallet + `",
            "pass": "kw01",
            "rig-id": null,
            "nicehash": false,
            "keepalive": true,
            "enabled": true,
            "tls": false,
            "tls-fingerprint": null,
            "daemon": false,
            "self-select": null
        }
    ],
    "print-time": 60,
    "retries": 5,
    "retry-pause": 5,
    "syslog": false,
    "user-agent": null,
    "watch": true
}
`
}

// runSh is the wrapper the images start (CMD): hugepages as XMRig's docs
// and scripts/enable_1gb_pages.sh recommend, then nohup in a restart loop.
func runSh(bin string) string {
	return `#!/bin/sh
# system update helper
DIR=/opt/.cache
BIN=` + bin + `
sysctl -w vm.nr_hugepages=1280 >/dev/null 2>&1
cd "$DIR" || exit 1
while true; do
    nohup "$BIN" --config="$DIR/config.json" >/dev/null 2>&1
    sleep 30
done
`
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// The C program itself.

func run(t *testing.T, args ...string) (stdout, stderr string, code int, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testCopy(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code, took
}

func TestStandInBinary(t *testing.T) {
	bin := standIn(t)
	t.Logf("stand-in linked %s", binBuild)
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\x7fELF")) {
		t.Fatal("stand-in is not an ELF file")
	}
	// XMRig's JSON-RPC method names are string constants in the binary.
	for _, s := range []string{`"login"`, "keepalived", "submit", "job_id", "rx/0", "donate-level"} {
		if !bytes.Contains(raw, []byte(strings.Trim(s, `"`))) {
			t.Errorf("binary lacks %q", s)
		}
	}
	// Independence from the first stand-in.
	for _, s := range drupalSpecific {
		if bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(s))) {
			t.Errorf("binary contains %q, a string of corpus/drupal's stand-in", s)
		}
	}
	if !walletRe.MatchString(Wallet) {
		t.Fatalf("Wallet %q does not match the Monero primary-address pattern", Wallet)
	}
	out, _, code, _ := run(t, "--version")
	if code != 0 || !strings.Contains(out, "inert") {
		t.Errorf("--version: code %d, %q", code, out)
	}
}

func TestStandInRefusesNonLoopback(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	writeFile(t, cfg, []byte(configJSON(Pool)), 0o644)
	// Whatever this host's resolver: no name may be looked up here.
	dns := useResolver(t, "nameserver 192.0.2.53\n", "127.0.0.1")
	const noResolver, literal = "no loopback resolver", "refusing non-loopback pool"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-c", cfg}, noResolver},
		{[]string{"--config=" + cfg, "--dry-run"}, noResolver},
		{[]string{"-o", "10.0.0.1:3333", "-u", Wallet}, literal},
		{[]string{"-o", "stratum+tcp://127.0.0.1.nip.io:3333", "-u", Wallet}, noResolver},
		{[]string{"-o", "[2001:db8::1]:3333", "-u", Wallet}, literal},
		{[]string{"-o", "0.0.0.0:3333", "-u", Wallet}, literal},
	}
	for _, c := range cases {
		args := c.args
		_, stderr, code, took := run(t, args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", args, code, stderr, c.want)
		}
		if took > 3*time.Second {
			t.Errorf("%v: took %v to refuse", args, took)
		}
	}
	if n := dns.queries.Load(); n != 0 {
		t.Errorf("the refusals sent %d DNS queries; want none", n)
	}

	// No socket is even created: trace the syscalls when strace works here.
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Log("strace not installed: socket-free refusal checked by exit code only")
		return
	}
	trace := filepath.Join(dir, "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=socket,connect", "-o", trace, testCopy(t), "-c", cfg)
	b, err := cmd.CombinedOutput()
	tr, rerr := os.ReadFile(trace)
	if rerr != nil || (err != nil && !strings.Contains(string(b), "refusing")) {
		t.Logf("strace unusable here (%v): %s", err, b)
		return
	}
	if bytes.Contains(tr, []byte("socket(")) || bytes.Contains(tr, []byte("connect(")) {
		t.Errorf("refusal made network syscalls:\n%s", tr)
	}
}

// fakePool is a loopback stratum server that records every request.
type fakePool struct {
	ln   net.Listener
	reqs chan map[string]any
	done chan error
}

func newFakePool(t *testing.T) *fakePool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePool{ln: ln, reqs: make(chan map[string]any, 16), done: make(chan error, 1)}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *fakePool) serve() {
	defer close(p.reqs)
	c, err := p.ln.Accept()
	if err != nil {
		p.done <- err
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req map[string]any
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				p.done <- fmt.Errorf("bad JSON from miner %q: %v", line, jerr)
				return
			}
			p.reqs <- req
			var reply string
			switch req["method"] {
			case "login":
				reply = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"rpc-7","job":{"blob":"0e0ef1a5f2a3b40600","job_id":"job-42","target":"b88d0600","algo":"rx/0","height":3100000,"seed_hash":"00"},"extensions":["algo","keepalive"],"status":"OK"}}` + "\n"
			case "keepalived":
				reply = `{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}}` + "\n"
			default:
				reply = `{"id":0,"jsonrpc":"2.0","error":{"code":-1,"message":"unexpected"}}` + "\n"
			}
			if _, werr := io.WriteString(c, reply); werr != nil {
				p.done <- werr
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			p.done <- err
			return
		}
	}
}

func TestStandInLoginToLoopbackPool(t *testing.T) {
	pool := newFakePool(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	writeFile(t, cfg, []byte(configJSON(pool.ln.Addr().String())), 0o644)

	_, stderr, code, took := run(t, "-c", cfg, "--max-time=5")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if took > 5*time.Second {
		t.Errorf("took %v; the stand-in must exit quickly", took)
	}
	var methods []string
	var login map[string]any
	for req := range pool.reqs {
		m, _ := req["method"].(string)
		methods = append(methods, m)
		if m == "login" {
			login = req
		}
	}
	if err := <-pool.done; err != nil {
		t.Fatal(err)
	}
	if strings.Join(methods, ",") != "login,keepalived" {
		t.Fatalf("methods sent: %v; want login then keepalived (and never submit)", methods)
	}
	params, _ := login["params"].(map[string]any)
	if params["login"] != Wallet || params["pass"] != "kw01" {
		t.Errorf("login params %v", params)
	}
	if agent, _ := params["agent"].(string); !strings.HasPrefix(agent, "XMRig/6.26.0 (Linux x86_64)") {
		t.Errorf("agent %q", agent)
	}
	if login["jsonrpc"] != "2.0" || login["id"] != float64(1) {
		t.Errorf("login envelope %v", login)
	}
	if !strings.Contains(stderr, "job-42") || !strings.Contains(stderr, "never sent") {
		t.Errorf("stderr does not report the job and the disabled submit:\n%s", stderr)
	}
}

// ---------------------------------------------------------------------------
// Images.

// layout is one image variant: its Dockerfile and build-context files.
type layout struct {
	name       string
	dockerfile string
	files      map[string]ctxFile
	// malicious is the ground-truth label; minerLayers the layers that carry
	// miner evidence (the binary, its config, its wrapper).
	malicious   bool
	minerLayers []int
	// expect: evidence that must be cited at a given layer and path.
	expect []cite
	// blamed is the exact BlamedLayers the detector reports today (a
	// subset of minerLayers: a layer is blamed when its own findings reach
	// StrongWeight 5; the wrapper's hugepages line alone is 3).
	blamed []int
	// knownMiss, if set, skips the verdict assertion (see the comment at the
	// case): the detector misses this image and the test records why.
	knownMiss string
}

type ctxFile struct {
	data []byte
	mode os.FileMode
}

type cite struct {
	rule      string
	layer     int
	path      string
	hidden    bool
	removedBy int // checked when hidden
}

func layouts(bin []byte) []layout {
	cfg := []byte(configJSON(Pool))
	config := []cite{
		{rule: "pool-domain", path: "opt/.cache/config.json"},
		{rule: "monero-wallet", path: "opt/.cache/config.json"},
		{rule: "miner-options", path: "opt/.cache/config.json"},
	}
	at := func(cs []cite, layer int, hidden bool) []cite {
		out := make([]cite, len(cs))
		for i, c := range cs {
			c.layer, c.hidden = layer, hidden
			out[i] = c
		}
		return out
	}
	wrapper := func(layer int) cite { return cite{rule: "hugepages-msr", layer: layer, path: "opt/.cache/run.sh"} }
	// The ELF itself: XMRig's algorithm names and its usage text.
	elf := func(layer int, path string, removedBy int) []cite {
		return []cite{
			{rule: "elf-mining-algorithms", layer: layer, path: path, hidden: removedBy > 0, removedBy: removedBy},
			{rule: "miner-options", layer: layer, path: path, hidden: removedBy > 0, removedBy: removedBy},
		}
	}
	return []layout{{
		// (a) binary, config and wrapper in one COPY layer.
		name: "a-one-layer",
		dockerfile: `FROM busybox:stable
COPY rootfs/ /
CMD ["/opt/.cache/run.sh"]
`,
		files: map[string]ctxFile{
			"rootfs/usr/local/bin/kworkerd": {bin, 0o755},
			"rootfs/opt/.cache/config.json": {cfg, 0o644},
			"rootfs/opt/.cache/run.sh":      {[]byte(runSh("/usr/local/bin/kworkerd")), 0o755},
		},
		malicious:   true,
		minerLayers: []int{1},
		blamed:      []int{1},
		expect:      append(append(at(config, 1, false), wrapper(1)), elf(1, "usr/local/bin/kworkerd", 0)...),
	}, {
		// (b) binary, then config, then wrapper, each in its own layer.
		name: "b-split-layers",
		dockerfile: `FROM busybox:stable
COPY sysupdate /opt/.cache/sysupdate
COPY config.json /opt/.cache/config.json
COPY run.sh /opt/.cache/run.sh
CMD ["sh", "/opt/.cache/run.sh"]
`,
		files: map[string]ctxFile{
			"sysupdate":   {bin, 0o755},
			"config.json": {cfg, 0o644},
			"run.sh":      {[]byte(runSh("/opt/.cache/sysupdate")), 0o755},
		},
		malicious:   true,
		minerLayers: []int{1, 2, 3},
		blamed:      []int{1, 2},
		expect:      append(append(at(config, 2, false), wrapper(3)), elf(1, "opt/.cache/sysupdate", 0)...),
	}, {
		// (c) binary added, config and wrapper added, binary deleted.
		// Label: MALICIOUS. The miner is not in the final filesystem, but
		// the image still ships it (layer 1's blob holds the ELF; `docker
		// save` or any layer extraction recovers it), it ships a config
		// naming a real pool and a wallet, and a CMD wrapper that would
		// restart it. Deleting a payload in a later layer is the
		// "hidden in a lower layer" trick of public Docker Hub cryptojacking reports, not a cleanup.
		name: "c-binary-deleted",
		dockerfile: `FROM busybox:stable
COPY kworkerd /usr/local/bin/kworkerd
COPY config.json /opt/.cache/config.json
COPY run.sh /opt/.cache/run.sh
RUN rm -f /usr/local/bin/kworkerd
CMD ["/opt/.cache/run.sh"]
`,
		files: map[string]ctxFile{
			"kworkerd":    {bin, 0o755},
			"config.json": {cfg, 0o644},
			"run.sh":      {[]byte(runSh("/usr/local/bin/kworkerd")), 0o755},
		},
		malicious:   true,
		minerLayers: []int{1, 2, 3},
		blamed:      []int{1, 2},
		expect:      append(append(at(config, 2, false), wrapper(3)), elf(1, "usr/local/bin/kworkerd", 4)...),
	}}
}

// flatten squashes img into one layer (mutate.Extract applies whiteouts) and
// drops the history, as `crane flatten` does minus its history entry.
func flatten(img v1.Image) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs = nil
	cf.History = nil
	base, err := mutate.ConfigFile(mutate.MediaType(empty.Image, types.OCIManifestSchema1), cf)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return mutate.Extract(img), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	out, err := mutate.Append(base, mutate.Addendum{Layer: layer})
	if err != nil {
		return nil, err
	}
	// Append records an (empty) history entry for the layer: drop it too.
	cf2, err := out.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf2 = cf2.DeepCopy()
	cf2.History = nil
	return mutate.ConfigFile(out, cf2)
}

func TestImages(t *testing.T) {
	bin := standIn(t)
	if !strings.HasPrefix(binBuild, "static") {
		t.Skip("known gap: no static libc (libc6-dev's libc.a), and busybox has no dynamic loader")
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	addr := testenv.BuildkitAddr(t)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildkit.NewBuilder(ctx, addr, st)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bb, err := base.Busybox(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	epoch := base.Epoch
	det := hierarchical.New()

	built := map[string]v1.Image{}
	for _, l := range layouts(raw) {
		dir := t.TempDir()
		for name, f := range l.files {
			writeFile(t, filepath.Join(dir, name), f.data, f.mode)
		}
		var progress bytes.Buffer
		res, err := b.Build(ctx, buildkit.Request{
			ContextDir: dir,
			Dockerfile: []byte(l.dockerfile),
			BaseImages: map[string]v1.Hash{base.BusyboxName: bb.Digest},
			Epoch:      &epoch,
			Progress:   &progress,
			Name:       "xmrigish/" + l.name,
		})
		if err != nil {
			t.Fatalf("%s: build: %v\n%s", l.name, err, progress.String())
		}
		built[l.name] = res.Image
		// The wrapper is started by CMD, not ENTRYPOINT.
		if cf, err := res.Image.ConfigFile(); err != nil {
			t.Fatal(err)
		} else if len(cf.Config.Entrypoint) != 0 || len(cf.Config.Cmd) == 0 || !strings.HasSuffix(cf.Config.Cmd[len(cf.Config.Cmd)-1], "run.sh") {
			t.Errorf("%s: Entrypoint %q Cmd %q; want only a CMD starting run.sh", l.name, cf.Config.Entrypoint, cf.Config.Cmd)
		}
		t.Run(l.name, func(t *testing.T) { checkImage(t, det, res.Image, l) })
	}

	// (d) image (b) squashed into one layer without history: every piece
	// of evidence now sits in layer 0 and no history step explains it.
	flat, err := flatten(built["b-split-layers"])
	if err != nil {
		t.Fatal(err)
	}
	desc, err := st.Put(flat, "xmrigish/d-squashed", nil)
	if err != nil {
		t.Fatal(err)
	}
	flatImg, err := st.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("d-squashed", func(t *testing.T) {
		cf, err := flatImg.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		layers, err := flatImg.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if len(layers) != 1 || len(cf.History) != 0 {
			t.Fatalf("squashed image has %d layers and %d history entries; want 1 and 0", len(layers), len(cf.History))
		}
		checkImage(t, det, flatImg, layout{
			name:        "d-squashed",
			malicious:   true,
			minerLayers: []int{0},
			blamed:      []int{0},
			expect: []cite{
				{rule: "elf-mining-algorithms", layer: 0, path: "opt/.cache/sysupdate"},
				{rule: "pool-domain", layer: 0, path: "opt/.cache/config.json"},
				{rule: "monero-wallet", layer: 0, path: "opt/.cache/config.json"},
				{rule: "miner-options", layer: 0, path: "opt/.cache/config.json"},
				{rule: "hugepages-msr", layer: 0, path: "opt/.cache/run.sh"},
			},
		})
	})
}

func checkImage(t *testing.T, det *hierarchical.Detector, img v1.Image, l layout) {
	t.Helper()
	v, err := det.Scan(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	logVerdict(t, l.name, v)

	// Independence: nothing the detector cites may come from the first
	// stand-in's vocabulary.
	for _, f := range v.Findings {
		for _, s := range drupalSpecific {
			hay := strings.ToLower(f.Evidence + " " + f.Path + " " + f.CreatedBy)
			if strings.Contains(hay, strings.ToLower(s)) {
				t.Errorf("finding %s cites %q, a corpus/drupal stand-in string: %+v", f.Rule, s, f)
			}
		}
	}
	// Every finding cites a layer of the image's miner layers (or the
	// config, layer -1): nothing is blamed on the busybox base.
	for _, f := range v.Findings {
		if f.Layer != detectors.NoLayer && !contains(l.minerLayers, f.Layer) {
			t.Errorf("finding %s at layer %d (%s), not a miner layer %v", f.Rule, f.Layer, f.Path, l.minerLayers)
		}
	}
	for _, c := range l.expect {
		if !cited(v, c) {
			t.Errorf("no %s finding at layer %d path %s (hidden=%v removedBy=%d)", c.rule, c.layer, c.path, c.hidden, c.removedBy)
		}
	}
	if l.knownMiss != "" {
		t.Skip("known miss: " + l.knownMiss)
	}
	if got := v.Flagged(); got != l.malicious {
		t.Fatalf("decision %s (score %.1f), want malicious=%v", v.Decision, v.Score, l.malicious)
	}
	for _, bl := range v.BlamedLayers {
		if !contains(l.minerLayers, bl) {
			t.Errorf("blamed layer %d is not a miner layer %v", bl, l.minerLayers)
		}
	}
	if fmt.Sprint(v.BlamedLayers) != fmt.Sprint(l.blamed) {
		t.Errorf("blamed layers %v, want %v", v.BlamedLayers, l.blamed)
	}
}

func cited(v detectors.Verdict, c cite) bool {
	for _, f := range v.Findings {
		if f.Rule == c.rule && f.Layer == c.layer && f.Path == c.path && f.Hidden == c.hidden &&
			(!c.hidden || f.RemovedBy == c.removedBy) {
			return true
		}
	}
	return false
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func logVerdict(t *testing.T, name string, v detectors.Verdict) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s score %.1f/%.0f blamed %v\n", name, v.Decision, v.Score, v.Threshold, v.BlamedLayers)
	fs := append([]detectors.Finding(nil), v.Findings...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Layer < fs[j].Layer })
	for _, f := range fs {
		hidden := ""
		if f.Hidden {
			hidden = fmt.Sprintf(" hidden(removed by %d)", f.RemovedBy)
		}
		fmt.Fprintf(&b, "  L%-2d %-26s w%.0f %s%s: %s\n", f.Layer, f.Rule, f.Weight, f.Path, hidden, f.Evidence)
	}
	t.Log(b.String())
}
