package multiengine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrEngineNotFound is wrapped by the error New and Learn return when
// clamscan or yara is not installed.
var ErrEngineNotFound = errors.New("engine not installed")

// Engine names, as used in Finding.Rule prefixes and Verdict.Info keys.
const (
	EngineSHA256 = "sha256"
	EngineClamAV = "clamav"
	EngineYARA   = "yara"
)

// engines are the external programs and their versions.
type engines struct {
	clamscan, yara string
	// clamVersion and yaraVersion are the programs' --version output;
	// clamKey drops ClamAV's "/<daily db>/<date>" suffix, which names the
	// official database this baseline never loads.
	clamVersion, yaraVersion, clamKey string
}

func findEngines(ctx context.Context, clamscan, yara string) (*engines, error) {
	if clamscan == "" {
		clamscan = "clamscan"
	}
	if yara == "" {
		yara = "yara"
	}
	e := &engines{}
	var err error
	if e.clamscan, err = exec.LookPath(clamscan); err != nil {
		return nil, fmt.Errorf("clamscan not found: run make setup (%w: %v)", ErrEngineNotFound, err)
	}
	if e.yara, err = exec.LookPath(yara); err != nil {
		return nil, fmt.Errorf("yara not found: run make setup (%w: %v)", ErrEngineNotFound, err)
	}
	if e.clamVersion, err = version(ctx, e.clamscan); err != nil {
		return nil, err
	}
	if e.yaraVersion, err = version(ctx, e.yara); err != nil {
		return nil, err
	}
	e.clamKey, _, _ = strings.Cut(e.clamVersion, "/")
	return e, nil
}

func version(ctx context.Context, prog string) (string, error) {
	out, err := exec.CommandContext(ctx, prog, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", prog, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// engineHit is one engine match on a file named by the scanner (its base
// name in the layer directory).
type engineHit struct {
	file string
	rule string
}

// scanError is a file an engine reported it could not scan.
type scanError struct {
	file, detail string
}

// clamArgs are the clamscan flags. --allmatch reports every matching
// signature (hash and body) instead of the first; heuristic alerts are off
// because the baseline is signature-only; the size limits are raised to the
// detector's so ClamAV does not silently skip a file the detector wrote.
func clamArgs(maxFile int64) []string {
	return []string{"--no-summary", "--infected", "--allmatch", "--heuristic-alerts=no",
		fmt.Sprintf("--max-filesize=%d", maxFile), fmt.Sprintf("--max-scansize=%d", 4*maxFile)}
}

func yaraArgs() []string { return []string{"-r", "-w"} }

// runClamscan scans dir with the databases dbs (non-empty files: clamscan
// refuses an empty database).
func (e *engines) runClamscan(ctx context.Context, maxFile int64, dbs []string, dir string) ([]engineHit, error) {
	args := clamArgs(maxFile)
	for _, db := range dbs {
		args = append(args, "-d", db)
	}
	args = append(args, "-r", dir)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.clamscan, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// Exit status 1 means "virus found".
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return nil, fmt.Errorf("clamscan: %w: %s", err, tail(stderr.String()))
	}
	var hits []engineHit
	prefix := dir + string(filepath.Separator)
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		file, sig, ok := strings.Cut(line, ": ")
		sig, found := strings.CutSuffix(sig, " FOUND")
		if !ok || !found {
			continue
		}
		hits = append(hits, engineHit{file: file, rule: strings.TrimSuffix(sig, ".UNOFFICIAL")})
	}
	return hits, sc.Err()
}

// runYara scans dir with the rules file. Files yara reports it could not
// scan come back as scanErrors, not as an error.
func (e *engines) runYara(ctx context.Context, rules, dir string) ([]engineHit, []scanError, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.yara, append(yaraArgs(), rules, dir)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	prefix := dir + string(filepath.Separator)
	var hits []engineHit
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		rule, p, ok := strings.Cut(sc.Text(), " ")
		if file, in := strings.CutPrefix(p, prefix); ok && in {
			hits = append(hits, engineHit{file: file, rule: rule})
		}
	}
	var errs []scanError
	other := false
	sc = bufio.NewScanner(&stderr)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "error scanning "+prefix)
		if !ok {
			other = other || strings.TrimSpace(sc.Text()) != ""
			continue
		}
		file, detail, _ := strings.Cut(rest, ": ")
		errs = append(errs, scanError{file: file, detail: detail})
	}
	if runErr != nil && (other || len(errs) == 0) {
		return nil, nil, fmt.Errorf("yara: %w: %s", runErr, tail(stderr.String()))
	}
	return hits, errs, nil
}

// validate compiles the generated databases by scanning an empty file.
func (e *engines) validate(ctx context.Context, s Signatures) error {
	dir, err := os.MkdirTemp("", "multiengine-validate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := writeDB(dir, s)
	if err != nil {
		return err
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return err
	}
	if len(db.clam) > 0 {
		args := append([]string{"--no-summary"}, clamDBArgs(db.clam)...)
		if out, err := exec.CommandContext(ctx, e.clamscan, append(args, empty)...).CombinedOutput(); err != nil {
			return fmt.Errorf("clamscan rejects the database: %w: %s", err, tail(string(out)))
		}
	}
	if out, err := exec.CommandContext(ctx, e.yara, "-w", db.yara, empty).CombinedOutput(); err != nil {
		return fmt.Errorf("yara rejects the rules: %w: %s", err, tail(string(out)))
	}
	return nil
}

func clamDBArgs(dbs []string) []string {
	var a []string
	for _, d := range dbs {
		a = append(a, "-d", d)
	}
	return a
}

// dbFiles are the databases written for the engines.
type dbFiles struct {
	clam []string // non-empty .hsb/.ndb files
	yara string
}

func writeDB(dir string, s Signatures) (dbFiles, error) {
	var db dbFiles
	for _, f := range []struct{ name, text string }{{"strata.hsb", s.ClamAVHSB}, {"strata.ndb", s.ClamAVNDB}} {
		if f.text == "" {
			continue
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.text), 0o600); err != nil {
			return db, fmt.Errorf("write %s: %w", f.name, err)
		}
		db.clam = append(db.clam, p)
	}
	db.yara = filepath.Join(dir, "strata.yar")
	if err := os.WriteFile(db.yara, []byte(s.YaraRules), 0o600); err != nil {
		return db, fmt.Errorf("write rules: %w", err)
	}
	return db, nil
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 500 {
		s = "..." + s[len(s)-500:]
	}
	return s
}
