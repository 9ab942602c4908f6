package census

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Ranking is the public popularity ranking the npm list comes from: the
// npm package npm-high-impact (https://github.com/wooorm/npm-high-impact),
// pinned, whose npmTopDownloads lists the most-downloaded npm packages,
// most downloaded first.
const (
	RankingPackage = "npm-high-impact"
	RankingVersion = "1.13.0"
	RankingExport  = "npmTopDownloads"
)

// NPMInstallFlags are the flags of every npm install of the census: no
// install scripts ever run on the host; devDependencies are left out as a
// user's production install leaves them out. Optional dependencies are
// kept: they are how packages ship their native binaries (npm installs only
// the one for this platform), which is content users' images really hold.
var NPMInstallFlags = []string{"install", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev", "--no-update-notifier"}

// Skipped is a ranked npm name that is not in the list, and why.
type Skipped struct {
	Rank   int
	Name   string
	Reason string
}

// Ranking installs the pinned ranking package into dir with the machine's
// npm and returns its names, most downloaded first.
func Ranking(ctx context.Context, dir string) ([]string, error) {
	if err := npmProject(dir); err != nil {
		return nil, err
	}
	if out, err := npm(ctx, dir, RankingPackage+"@"+RankingVersion); err != nil {
		return nil, fmt.Errorf("install the ranking %s@%s: %w\n%s", RankingPackage, RankingVersion, err, out)
	}
	cmd := exec.CommandContext(ctx, "node", "--input-type=module", "-e",
		fmt.Sprintf("import {%s} from '%s'; process.stdout.write(JSON.stringify(%s))", RankingExport, RankingPackage, RankingExport))
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("read the ranking with node (is nodejs installed?): %w", err)
	}
	var names []string
	if err := json.Unmarshal(out, &names); err != nil {
		return nil, fmt.Errorf("ranking: %w", err)
	}
	return names, nil
}

// Pin installs each of the names (with NPMInstallFlags, in batches of
// batch names, one by one when a batch fails) under dir and returns the
// list entries, with version and integrity read from the lockfile, in
// ranking order (rank = position in names + 1). Names that fail alone are
// returned as skipped with npm's last error line.
func Pin(ctx context.Context, dir string, names []string, batch int, log io.Writer) ([]Entry, []Skipped, error) {
	var (
		pinned  []Entry
		skipped []Skipped
	)
	install := func(sub string, ns []string) (map[string]lockEntry, error) {
		d := filepath.Join(dir, sub)
		if err := npmProject(d); err != nil {
			return nil, err
		}
		if out, err := npm(ctx, d, ns...); err != nil {
			return nil, fmt.Errorf("%w: %s", err, npmReason(out))
		}
		return readLock(filepath.Join(d, "package-lock.json"))
	}
	for start := 0; start < len(names); start += batch {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		ns := names[start:min(start+batch, len(names))]
		lock, err := install(fmt.Sprintf("batch-%04d", start), ns)
		fmt.Fprintf(log, "pin: ranks %d-%d: %v\n", start+1, start+len(ns), errOr(err, "installed"))
		for i, n := range ns {
			rank := start + i + 1
			l, ok := lock["node_modules/"+n]
			if err != nil || !ok {
				one, oerr := install(fmt.Sprintf("one-%04d", rank), []string{n})
				if oerr != nil {
					skipped = append(skipped, Skipped{rank, n, oerr.Error()})
					fmt.Fprintf(log, "pin: skip %d %s: %v\n", rank, n, oerr)
					continue
				}
				if l, ok = one["node_modules/"+n]; !ok {
					skipped = append(skipped, Skipped{rank, n, "not in the lockfile after install"})
					continue
				}
			}
			if l.Integrity == "" || l.Version == "" {
				skipped = append(skipped, Skipped{rank, n, "lockfile has no version or integrity (not from the registry?)"})
				continue
			}
			pinned = append(pinned, Entry{Ecosystem: NPM, Name: n, Version: l.Version, Integrity: l.Integrity, Rank: rank, Stratum: Top})
		}
	}
	return pinned, skipped, nil
}

func errOr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

// npmReason picks npm's error code and message out of its output
// ("npm error code EBADPLATFORM ... npm error notsup Unsupported platform").
func npmReason(b []byte) string {
	var parts []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		rest, ok := strings.CutPrefix(l, "npm error ")
		if !ok || rest == "" || strings.Contains(rest, "complete log") || strings.HasPrefix(rest, "A complete") {
			continue
		}
		parts = append(parts, rest)
		if len(parts) == 2 {
			break
		}
	}
	if len(parts) == 0 {
		return "npm install failed without an npm error line"
	}
	return strings.Join(parts, "; ")
}

type lockEntry struct {
	Version   string `json:"version"`
	Integrity string `json:"integrity"`
	Resolved  string `json:"resolved"`
}

func readLock(path string) (map[string]lockEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read lockfile: %w", err)
	}
	var lf struct {
		Packages map[string]lockEntry `json:"packages"`
	}
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lf.Packages, nil
}

// npmProject makes dir an empty private npm project.
func npmProject(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"strata-census","version":"0.0.0","private":true}`+"\n"), 0o644)
}

// npm runs `npm install` with NPMInstallFlags and the specs in dir.
func npm(ctx context.Context, dir string, specs ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "npm", append(append([]string(nil), NPMInstallFlags...), specs...)...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}
