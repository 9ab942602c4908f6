package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/strata-sec/strata/"

// TestDependencyDirection pins DESIGN.md's import direction: cmd ->
// experiments -> {corpus, mutations, detectors, baselines}, baselines ->
// detectors, and nothing imports cmd or experiments. Test files are exempt.
func TestDependencyDirection(t *testing.T) {
	forbidden := map[string][]string{
		"experiments": {"cmd"},
		"corpus":      {"cmd", "experiments", "detectors", "baselines", "mutations"},
		"mutations":   {"cmd", "experiments", "detectors", "baselines"},
		"detectors":   {"cmd", "experiments", "baselines", "mutations", "corpus"},
		"baselines":   {"cmd", "experiments", "mutations", "corpus"},
		"internal":    {"cmd", "experiments", "mutations", "corpus", "baselines"},
		// The layer walker sits below every detector, baseline and corpus.
		"internal/layers": {"cmd", "experiments", "mutations", "corpus", "baselines", "detectors"},
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
		parts := strings.Split(filepath.ToSlash(rel), "/")
		top := parts[0]
		bans := forbidden[top]
		if len(parts) > 2 && forbidden[top+"/"+parts[1]] != nil {
			top = top + "/" + parts[1]
			bans = forbidden[top]
		}
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
			target := strings.Split(strings.TrimPrefix(p, module), "/")[0]
			for _, b := range bans {
				if target == b {
					t.Errorf("%s imports %s: %s must not depend on %s (DESIGN.md, dependency direction)", rel, p, top, b)
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
