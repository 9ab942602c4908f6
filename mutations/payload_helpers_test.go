package mutations

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dfile "github.com/strata-sec/strata/internal/dockerfile"
)

func TestReplacePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/bin/minerd -a x", "/N -a x"},
		{"exec /bin/minerd", "exec /N"},
		{"--bin=/bin/minerd;", "--bin=/N;"},
		{`"/bin/minerd"`, `"/N"`},
		{"/usr/bin/minerd", "/usr/bin/minerd"},
		{"/bin/minerd.conf /bin/minerd2 /bin/minerd/x", "/bin/minerd.conf /bin/minerd2 /bin/minerd/x"},
		{"a /bin/minerd b /bin/minerd", "a /N b /N"},
	}
	for _, tt := range tests {
		if got, _ := replacePath(tt.in, "/bin/minerd", "/N"); got != tt.want {
			t.Errorf("replacePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostSpan(t *testing.T) {
	tests := []struct{ url, host string }{
		{"stratum+tcp://xmr.pool.minergate.com:45560", "xmr.pool.minergate.com"},
		{"stratum+tcp://user:pa:ss@pool.example.net:3333/x?y", "pool.example.net"},
		{"http://[::1]:80/", "[::1]"},
		{"https://example.org", "example.org"},
		{"file:///etc/passwd", ""},
	}
	for _, tt := range tests {
		a, b, ok := hostSpan(tt.url)
		got := ""
		if ok {
			got = tt.url[a:b]
		}
		if got != tt.host {
			t.Errorf("host of %q = %q, want %q", tt.url, got, tt.host)
		}
	}
}

func TestLaunches(t *testing.T) {
	tests := []struct {
		name, src       string
		ep, cmd         string // program, "" for none
		epFinal, cmdFin bool
	}{
		{name: "both", src: "FROM x\nENTRYPOINT [\"/e\"]\nCMD [\"c\"]\n", ep: "/e", cmd: "c", epFinal: true, cmdFin: true},
		{name: "entrypoint clears an inherited cmd", src: "FROM x AS a\nCMD [\"c\"]\nFROM a\nENTRYPOINT [\"/e\"]\n", ep: "/e", epFinal: true},
		{name: "same-stage cmd before entrypoint stays", src: "FROM x\nCMD [\"c\"]\nENTRYPOINT [\"/e\"]\n", ep: "/e", cmd: "c", epFinal: true, cmdFin: true},
		{name: "inherited from a parent stage", src: "FROM x AS a\nENTRYPOINT [\"/e\"]\nFROM a\nCMD [\"c\"]\n", ep: "/e", cmd: "c", cmdFin: true},
		{name: "shell form", src: "FROM x\nENTRYPOINT exec /e -a\n", ep: "/e", epFinal: true},
		{name: "unrelated stage", src: "FROM x AS a\nENTRYPOINT [\"/e\"]\nFROM y\nRUN a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDockerfile([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			ep, cmd := d.launches()
			check := func(what string, l *launch, prog string, final bool) {
				switch {
				case prog == "" && l != nil:
					t.Errorf("%s = %q, want none", what, l.node.Original)
				case prog != "" && (l == nil || l.program() != prog || l.final != final):
					t.Errorf("%s = %+v, want %s (final %v)", what, l, prog, final)
				}
			}
			check("ENTRYPOINT", ep, tt.ep, tt.epFinal)
			check("CMD", cmd, tt.cmd, tt.cmdFin)
		})
	}
}

// TestTargetSelection: started beats marked beats the rest; what is no
// payload file.
func TestTargetSelection(t *testing.T) {
	files := map[string][]byte{"a": []byte("#!/bin/sh\n"), "b": []byte("x"), "dir/c": []byte("y"), "t.tar": make([]byte, 600)}
	copy(files["t.tar"][257:], "ustar")
	tests := []struct {
		name, df, want string // want: the target's source, "" for ErrNotApplicable
	}{
		{"started", "FROM x\n# strata:malicious=L1\nCOPY b /opt/b\nCOPY a /usr/local/bin/a\nCMD [\"a\"]\n", "a"},
		{"marked", "FROM x\nCOPY a /opt/a\n# strata:malicious=L1\nCOPY b /opt/b\n", "b"},
		{"directory, dest dir, several sources, --from, URL, relative", "FROM x\nCOPY dir /opt/d\nCOPY a /usr/local/bin/\nCOPY a b /opt/\nCOPY --from=y a /a\nADD http://h/a /a\nCOPY a rel\nCOPY a /usr/bin\n", ""},
		{"ADD of a tar unpacks", "FROM x\nADD t.tar /opt/t\n", ""},
		{"COPY of a tar is a file", "FROM x\nCOPY t.tar /opt/t\n", "t.tar"},
		{"earlier stages do not count", "FROM x AS a\nCOPY a /a\nFROM x\nRUN true\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPayloadFixture(t, []byte(tt.df), files)
			d, err := parseDockerfile(f.p.Dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			tg, err := d.payloadTarget(f.p.Dir, NewRand(1, "x"), "", nil)
			switch {
			case tt.want == "" && !errors.Is(err, ErrNotApplicable):
				t.Errorf("target %v, error %v; want ErrNotApplicable", tg, err)
			case tt.want != "" && (err != nil || tg.rel != tt.want):
				t.Errorf("target %+v, error %v; want %s", tg, err, tt.want)
			}
		})
	}
}

// TestRenameRewritesEverything: RUN text, a heredoc, HEALTHCHECK, a
// shell-form CMD and a copied cron file follow the rename; comments and a
// longer path do not.
func TestRenameRewritesEverything(t *testing.T) {
	df := "FROM debian:bookworm\n" +
		"COPY etc/ /etc/\n" +
		"# strata:malicious=L9\n" +
		"COPY --chmod=755 --chown=1:1 bin/agent /opt/agent/agent\n" +
		"# /opt/agent/agent is the agent\n" +
		"RUN /opt/agent/agent --version && ls /opt/agent/agent.d\n" +
		"RUN <<EOF\nset -e\n/opt/agent/agent --check\nEOF\n" +
		"HEALTHCHECK CMD /opt/agent/agent --ping\n" +
		"CMD /opt/agent/agent --serve\n"
	f := newPayloadFixture(t, []byte(df), map[string][]byte{
		"bin/agent*":       []byte("#!/bin/sh\necho agent\n"),
		"etc/cron.d/agent": []byte("* * * * * root /opt/agent/agent --tick\n"),
	})
	if err := ApplyPayload(getPayload(t, "rename-binary"), f.p, 3, Env{}); err != nil {
		t.Fatal(err)
	}
	checkPayload(t, []byte(df), f)
	nodes := finalInstrs(t, f.p.Dockerfile)
	a, _ := parseAddCopy(nodes[1], 1)
	dest := a.dest
	if !slices.Equal(a.flags, []string{"--chmod=755", "--chown=1:1"}) || dfile.Marker(nodes[1]) != "L9" {
		t.Errorf("renamed COPY %q lost its flags or marker", nodes[1].Original)
	}
	got := string(f.p.Dockerfile)
	for _, want := range []string{
		"RUN " + dest + " --version && ls /opt/agent/agent.d\n",
		"\n" + dest + " --check\n",
		"HEALTHCHECK CMD " + dest + " --ping\n",
		"CMD " + dest + " --serve\n",
		"# /opt/agent/agent is the agent\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	cron, _ := os.ReadFile(filepath.Join(f.p.Dir, "etc/cron.d/agent"))
	if string(cron) != "* * * * * root "+dest+" --tick\n" {
		t.Errorf("cron file %q", cron)
	}
	if _, err := os.Stat(filepath.Join(f.p.Dir, "bin", filepath.Base(dest))); err != nil {
		t.Errorf("context file not renamed into bin/: %v", err)
	}
}

// TestSharedSourceKept: a context file another instruction reads is copied
// (rename) or padded under a new name (pad), never changed in place.
func TestSharedSourceKept(t *testing.T) {
	df := "FROM debian:bookworm AS build\nCOPY tool /tool\nRUN /tool --selftest\n" +
		"FROM debian:bookworm\n# strata:malicious=L9\nADD --chmod=755 tool /usr/bin/tool\nENTRYPOINT [\"tool\"]\n"
	elf := append([]byte("\x7fELF"), make([]byte, 100)...)
	for _, name := range []string{"rename-binary", "pad-binary", "split-payload", "compress-payload"} {
		t.Run(name, func(t *testing.T) {
			f := newPayloadFixture(t, []byte(df), map[string][]byte{"tool*": elf})
			if err := ApplyPayload(getPayload(t, name), f.p, 1, Env{}); err != nil {
				t.Fatal(err)
			}
			checkPayload(t, []byte(df), f)
			b, err := os.ReadFile(filepath.Join(f.p.Dir, "tool"))
			if err != nil || !slices.Equal(b, elf) {
				t.Errorf("the shared context file changed or went: %v", err)
			}
			if !strings.HasPrefix(string(f.p.Dockerfile), "FROM debian:bookworm AS build\nCOPY tool /tool\n") {
				t.Error("the first stage changed")
			}
			if name == "pad-binary" && !strings.Contains(string(f.p.Dockerfile), "ADD --chmod=755 .tool-") {
				t.Errorf("padded copy not added under a new name:\n%s", f.p.Dockerfile)
			}
		})
	}
}

// TestHideAndDeleteAvoidsNonRootRm: with USER nobody set before the
// payload file, the copy and the rm go where root is in effect.
func TestHideAndDeleteAvoidsNonRootRm(t *testing.T) {
	df := "FROM debian:bookworm\nRUN a\nCOPY conf /etc/app.conf\nUSER nobody\nRUN b\nUSER root\nRUN c\nUSER nobody\nCMD [\"app\"]\n"
	for seed := int64(1); seed <= 20; seed++ {
		f := newPayloadFixture(t, []byte(df), map[string][]byte{"conf": []byte("x=1\n")})
		if err := ApplyPayload(getPayload(t, "hide-and-delete"), f.p, seed, Env{}); err != nil {
			t.Fatal(err)
		}
		d, _ := parseDockerfile(f.p.Dockerfile)
		user := ""
		for _, n := range d.Final().Instructions {
			if dfile.Is(n, "user") {
				user = n.Next.Value
			}
			if strings.HasPrefix(n.Original, "RUN rm -f") && !dfile.IsRoot(user) {
				t.Fatalf("seed %d: rm runs as %s:\n%s", seed, user, f.p.Dockerfile)
			}
		}
	}
	// A USER inherited from the parent stage leaves no root point.
	f := newPayloadFixture(t, []byte("FROM debian:bookworm AS base\nUSER nobody\nFROM base\nCOPY conf /etc/app.conf\n"), map[string][]byte{"conf": []byte("x")})
	if err := ApplyPayload(getPayload(t, "hide-and-delete"), f.p, 1, Env{}); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("non-root throughout the final stage: %v, want ErrNotApplicable", err)
	}
}

// TestPoolTypesShellAndCmd: the pool types handle a shell-form command and
// a CMD with no ENTRYPOINT in the Dockerfile, and keep ports.
func TestPoolTypesShellAndCmd(t *testing.T) {
	for _, df := range []string{
		"FROM x\nCMD [\"xmrig\", \"--url=stratum+tcp://pool.minexmr.com:4444\", \"-k\"]\n",
		"FROM x\nENTRYPOINT xmrig -o stratum+tcp://pool.minexmr.com:4444 -k\n",
	} {
		for _, name := range []string{"pool-raw-ip", "pool-unlisted-domain", "pool-env"} {
			f := newPayloadFixture(t, []byte(df), nil)
			if err := ApplyPayload(getPayload(t, name), f.p, 1, Env{}); err != nil {
				t.Fatalf("%s on %q: %v", name, df, err)
			}
			got := string(f.p.Dockerfile)
			if strings.Contains(got, "minexmr") {
				t.Errorf("%s: pool host still in\n%s", name, got)
			}
			if name != "pool-env" && !strings.Contains(got, ":4444") {
				t.Errorf("%s: port lost\n%s", name, got)
			}
		}
	}
	f := newPayloadFixture(t, []byte("FROM x\nENTRYPOINT [\"sh\", \"-c\", \"echo 'stratum+tcp://a.example.com:1'\"]\n"), nil)
	if err := ApplyPayload(getPayload(t, "pool-env"), f.p, 1, Env{}); err != nil {
		t.Fatal(err) // exec form: the URL inside an argument is still one
	}
}
