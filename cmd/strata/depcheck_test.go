package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/strata-sec/strata/"

// TestDependencyDirection pins the import direction of ARCHITECTURE.md:
// cmd -> {experiments, gate} -> {corpus, mutations, detectors, baselines}
// -> internal (walker, Dockerfile model, scan report, infrastructure), and
// nothing imports cmd, experiments or gate (gate imports neither cmd nor
// experiments). Keys may name subpackages
// ("internal/layers"); the longest key matching a file's directory applies.
// Test files are exempt.
func TestDependencyDirection(t *testing.T) {
	lower := []string{"cmd", "experiments", "gate", "mutations", "corpus", "baselines", "detectors"}
	forbidden := map[string][]string{
		"experiments":       {"cmd", "experiments/bench", "gate"},
		"experiments/bench": {"cmd", "gate"},
		// The gate sits beside experiments: it scans with detectors and
		// renders with the scan report, and nothing below imports it.
		"gate":      {"cmd", "experiments"},
		"corpus":    {"cmd", "experiments", "gate", "detectors", "baselines", "mutations"},
		"mutations": {"cmd", "experiments", "gate", "detectors", "baselines"},
		"detectors": {"cmd", "experiments", "gate", "baselines", "mutations", "corpus", "internal/scanreport"},
		"baselines": {"cmd", "experiments", "gate", "mutations", "corpus", "internal/scanreport"},
		"internal":  {"cmd", "experiments", "gate", "mutations", "corpus", "baselines"},
		// The walker and the Dockerfile model sit below every detector,
		// baseline and corpus package.
		"internal/layers":     lower,
		"internal/dockerfile": lower,
		// The scan report renders detectors' verdicts for the CLI.
		"internal/scanreport": {"cmd", "experiments", "gate", "mutations", "corpus", "baselines"},
	}
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		top := ""
		for k := range forbidden {
			if strings.HasPrefix(filepath.ToSlash(rel), k+"/") && len(k) > len(top) {
				top = k
			}
		}
		bans := forbidden[top]
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if !strings.HasPrefix(p, module) {
				continue
			}
			target := strings.TrimPrefix(p, module) + "/"
			for _, b := range bans {
				if strings.HasPrefix(target, b+"/") {
					t.Errorf("%s imports %s: %s must not depend on %s (ARCHITECTURE.md, dependency direction)", rel, p, top, b)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: is the walk rooted at the module?", checked)
	}
}

// TestScannerDoesNotLinkSyft: strata (every `strata scan`) links none of
// syft's or stereoscope's packages; the inventory baseline reaches them
// through the strata-sbom helper. Linking them added about 90 MB to the
// binary and to every scan's resident memory.
func TestScannerDoesNotLinkSyft(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/anchore/") {
			t.Errorf("cmd/strata depends on %s: import syft only from baselines/inventory/syftsbom (cmd/strata-sbom)", p)
		}
	}
}
