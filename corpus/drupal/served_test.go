package drupal

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("WriteServed needs git on the host: %v", err)
	}
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestWriteServed writes the served tree twice, checks the commit is the
// same, then clones it the way layer 8 does: git's dumb HTTP protocol from a
// plain file server on 127.0.0.1.
func TestWriteServed(t *testing.T) {
	needGit(t)
	var heads []string
	var root string
	for range 2 {
		root = t.TempDir()
		if err := WriteServed(root); err != nil {
			t.Fatal(err)
		}
		heads = append(heads, gitOut(t, root, "--git-dir="+filepath.Join(root, ServedRepo), "rev-parse", "HEAD"))
	}
	if heads[0] != heads[1] {
		t.Fatalf("HEAD differs between two WriteServed calls: %s vs %s", heads[0], heads[1])
	}
	// Writing over an existing tree gives the same commit too.
	if err := WriteServed(root); err != nil {
		t.Fatal(err)
	}
	if h := gitOut(t, root, "--git-dir="+filepath.Join(root, ServedRepo), "rev-parse", "HEAD"); h != heads[0] {
		t.Errorf("rewrite changed HEAD to %s", h)
	}

	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	defer srv.Close()
	work := t.TempDir()
	gitOut(t, work, "clone", "--quiet", srv.URL+"/"+ServedRepo, "cpuminer-multi")
	clone := filepath.Join(work, "cpuminer-multi")
	if h := gitOut(t, clone, "rev-parse", "HEAD"); h != heads[0] {
		t.Errorf("cloned HEAD %s, want %s", h, heads[0])
	}
	if log := gitOut(t, clone, "log", "--format=%an <%ae> %aI %cI"); log != "Wolf0 <wolf0@localhost> 2017-06-01T00:00:00+00:00 2017-06-01T00:00:00+00:00" {
		t.Errorf("commit identity/dates = %q", log)
	}

	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil || !bytes.Contains(readme, []byte("cpuminer-multi")) {
		t.Errorf("README.md does not name cpuminer-multi (%v)", err)
	}
	st, err := os.Stat(filepath.Join(clone, "build.sh"))
	if err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("build.sh missing or not executable (%v)", err)
	}
	src, err := minerdSources()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range src {
		got, err := os.ReadFile(filepath.Join(clone, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("clone's %s differs from the stand-in's source (%v)", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(clone, "main_test.go")); err == nil {
		t.Error("clone carries the stand-in's tests")
	}

	resp, err := http.Get(srv.URL + "/" + ServedConfigJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	if cfg["algo"] != "cryptonight" || !strings.HasPrefix(cfg["url"].(string), "stratum+tcp://") {
		t.Errorf("config.json = %v", cfg)
	}
}

// TestScriptsParse runs sh -n over every shell script the image gets: the
// served watchdog, the layer-10 script and the entrypoint scripts.
func TestScriptsParse(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	scripts := map[string][]byte{}
	for _, p := range []string{"served/files/update.sh", "served/cpuminer-multi/build.sh", "buildctx/bin/docker-php-entrypoint", "buildctx/bin/apache2-foreground"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		scripts[p] = data
	}
	df, err := Dockerfile(Case{L10: true}, Options{ServerURL: testServerURL})
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(df), "RUN <<EOF\n")
	body, _, ok2 := strings.Cut(body, "\nEOF\n")
	if !ok || !ok2 {
		t.Fatal("layer 10 heredoc not found")
	}
	scripts["layer 10"] = []byte(body)
	for name, data := range scripts {
		cmd := exec.Command("sh", "-n")
		cmd.Stdin = bytes.NewReader(data)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", name, err, out)
		}
	}
}
