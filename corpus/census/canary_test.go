package census

import (
	"path/filepath"
	"testing"
	"time"
)

// TestCanaryLayers: each canary's layer holds its miner content where the
// census puts its ecosystem's files (dist-packages modules, an install
// under /app, a .deb's files and maintainer scripts), with the modes a
// package gives them.
func TestCanaryLayers(t *testing.T) {
	want := map[string]map[string]int64{
		"sysmon-agent": {
			"etc/sysmon/config.json":                  0o644,
			"usr/bin/sysmond":                         0o755,
			"lib/systemd/system/sysmon.service":       0o644,
			"var/lib/dpkg/info/sysmon-agent.postinst": 0o755,
		},
		"python3-sysmetrics": {
			"usr/lib/python3/dist-packages/sysmetrics/__init__.py": 0o644,
			"usr/lib/python3/dist-packages/sysmetrics.pth":         0o644,
		},
		"perf-hooks-lite": {
			"app/package.json": 0o644,
			"app/node_modules/perf-hooks-lite/lib/warmup.js": 0o644,
			"app/node_modules/coin-hive/bin/coin-hive":       0o755,
		},
	}
	if len(Canaries) != len(want) {
		t.Errorf("%d canaries, the test knows %d", len(Canaries), len(want))
	}
	for _, c := range Canaries {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			lf, _, _, err := WriteCanaryLayer(filepath.Join(dir, "l.tar.gz"), filepath.Join(dir, "work"), c, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, h := range layerHeaders(t, lf.Path) {
				got[h.Name] = h.Mode
			}
			for p, mode := range want[c.Name] {
				if m, ok := got[p]; !ok || m != mode {
					t.Errorf("%s: mode %o present %v, want %o", p, m, ok, mode)
				}
			}
		})
	}
}
