package drupal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/strata-sec/strata/corpus"
)

// servedFS holds the static served files: the layer-10 payloads and the
// non-Go files of the cpuminer-multi stand-in repository.
//
//go:embed served
var servedFS embed.FS

// errNoGit is wrapped when the host lacks git (WriteServed needs it).
var errNoGit = errors.New("git is needed to write the served repository")

// Served paths, relative to the server root (and to the ServerURL).
const (
	ServedRepo       = "OhGodAPet/cpuminer-multi.git" // bare repository, git dumb HTTP
	ServedConfigJSON = "files/config.json"            // layer 10: pool configuration
	ServedUpdateSh   = "files/update.sh"              // layer 10: watchdog / competitor killer
)

// Identity and message of the served repository's single commit. Fixed
// names, e-mail and SourceDate make its hash the same on every machine with
// the same repository content.
const (
	repoAuthorName  = "Wolf0"
	repoAuthorEmail = "wolf0@localhost"
	repoMessage     = "cpuminer-multi: inert stand-in for the strata corpus\n"
	repoBranch      = "master"
)

// WriteServed writes what the harness's loopback HTTP server serves under
// its root dir: the bare repository ServedRepo (one deterministic commit,
// loose objects, info/refs from git update-server-info for git's dumb HTTP
// protocol) and the payload files layer 10 downloads. An existing repository
// is replaced. Needs git on the host.
func WriteServed(dir string) error {
	sub, err := fs.Sub(servedFS, "served/files")
	if err != nil {
		return fmt.Errorf("write served: %w", err)
	}
	if err := corpus.WriteTree(filepath.Join(dir, "files"), sub, func(string) os.FileMode { return 0o644 }, SourceDate); err != nil {
		return fmt.Errorf("write served: %w", err)
	}
	if _, err := WriteRepo(filepath.Join(dir, filepath.FromSlash(ServedRepo))); err != nil {
		return fmt.Errorf("write served: %w", err)
	}
	return nil
}

// repoFiles returns the repository's files: README, build script and
// Makefile, go.mod and the stand-in's Go source, laid out at the top level
// like cpuminer-multi's C sources.
func repoFiles() (map[string][]byte, error) {
	files, err := minerdSources()
	if err != nil {
		return nil, err
	}
	files["go.mod"] = []byte(minerdGoMod)
	err = fs.WalkDir(servedFS, "served/cpuminer-multi", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := servedFS.ReadFile(p)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(p, "served/cpuminer-multi/")] = data
		return nil
	})
	return files, err
}

// WriteRepo creates the bare stand-in repository at dir (replacing it) and
// returns its commit hash. The commit is made with git plumbing in an
// isolated environment (no system or user config, no hooks, fixed identity,
// dates and time zone), so the hash depends only on the files. Objects stay
// loose: a repack's delta search is threaded and need not be deterministic.
func WriteRepo(dir string) (string, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return "", fmt.Errorf("write repo: %w: %w", errNoGit, err)
	}
	files, err := repoFiles()
	if err != nil {
		return "", fmt.Errorf("write repo: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("write repo: %w", err)
	}
	work, err := os.MkdirTemp("", "strata-repo-")
	if err != nil {
		return "", fmt.Errorf("write repo: %w", err)
	}
	defer os.RemoveAll(work)

	tree := filepath.Join(work, "tree")
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := corpus.WriteFile(filepath.Join(tree, filepath.FromSlash(name)), files[name], mode, SourceDate); err != nil {
			return "", fmt.Errorf("write repo: %w", err)
		}
	}

	date := SourceDate.Format("2006-01-02T15:04:05Z")
	isolated := append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"HOME="+work,
		"TZ=UTC",
		"LC_ALL=C",
	)
	env := append(slices.Clip(isolated),
		"GIT_DIR="+dir,
		"GIT_WORK_TREE="+tree,
		"GIT_INDEX_FILE="+filepath.Join(work, "index"),
		"GIT_AUTHOR_NAME="+repoAuthorName,
		"GIT_AUTHOR_EMAIL="+repoAuthorEmail,
		"GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME="+repoAuthorName,
		"GIT_COMMITTER_EMAIL="+repoAuthorEmail,
		"GIT_COMMITTER_DATE="+date,
	)
	git := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Env = env
		if args[0] == "init" {
			// init takes the path as an argument; GIT_WORK_TREE would
			// contradict --bare.
			cmd.Env = isolated
		}
		cmd.Dir = work
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(stdout.String()), nil
	}

	steps := [][]string{
		// An empty template: no sample hooks, no description file from the
		// host's git version.
		{"init", "--quiet", "--bare", "--template=", dir},
		{"symbolic-ref", "HEAD", "refs/heads/" + repoBranch},
		{"config", "core.fileMode", "true"},
		{"config", "gc.auto", "0"},
		{"add", "--all", "."},
	}
	for _, s := range steps {
		if _, err := git("", s...); err != nil {
			return "", fmt.Errorf("write repo: %w", err)
		}
	}
	treeID, err := git("", "write-tree")
	if err != nil {
		return "", fmt.Errorf("write repo: %w", err)
	}
	commit, err := git(repoMessage, "commit-tree", treeID)
	if err != nil {
		return "", fmt.Errorf("write repo: %w", err)
	}
	for _, s := range [][]string{
		{"update-ref", "refs/heads/" + repoBranch, commit},
		// info/refs and objects/info/packs: what a dumb-HTTP client reads
		// first, since a plain file server cannot run upload-pack.
		{"update-server-info"},
	} {
		if _, err := git("", s...); err != nil {
			return "", fmt.Errorf("write repo: %w", err)
		}
	}
	return commit, nil
}
