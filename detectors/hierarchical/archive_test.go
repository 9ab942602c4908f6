package hierarchical_test

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/strata-sec/strata/detectors"
	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestArchiveVerdicts: a payload shipped in an archive ends malicious, or,
// out of the recursion's reach, incomplete; never clean.
func TestArchiveVerdicts(t *testing.T) {
	a := func(name string, body []byte, mode int64) hierarchical.ArchiveMember {
		return hierarchical.ArchiveMember{Name: name, Body: body, Mode: mode}
	}
	release := func(t *testing.T) []byte {
		return hierarchical.ArchiveGzip(t, hierarchical.ArchiveTar(t,
			a("xmrig-6.21.0/xmrig", []byte(elfWith(t, "mining.subscribe", "mining.authorize", "XMRig/%s")), 0o755),
			a("xmrig-6.21.0/config.json", []byte(`{"donate-level": 1, "pools": [{"url": "stratum+tcp://203.0.113.7:3333", "user": "`+wallet+`"}]}`), 0o644)))
	}
	tests := []struct {
		name string
		img  func(t *testing.T) v1.Image
		want detectors.Decision
	}{
		{"miner release tarball unpacked by the entrypoint", func(t *testing.T) v1.Image {
			return erCfg(t, v1.Config{Cmd: []string{"sh", "-c", "tar xzf /opt/x.tgz -C /opt && exec /opt/xmrig-6.21.0/xmrig"}},
				"COPY x.tgz /opt/ # buildkit", dt.Text("opt/x.tgz", string(release(t))))
		}, detectors.Malicious},
		{"payload 10 archives deep", func(t *testing.T) v1.Image {
			return erOne(t, "COPY p.gz /opt/ # buildkit", dt.Text("opt/p.gz", string(hierarchical.ArchiveNested(t, []byte(erDropper), 10))))
		}, detectors.Incomplete},
		{"release tarball of docs", func(t *testing.T) v1.Image {
			return erOne(t, "COPY app.tgz /opt/ # buildkit", dt.Text("opt/app.tgz", string(hierarchical.ArchiveGzip(t, hierarchical.ArchiveTar(t,
				a("app/README.md", []byte("# app\n"), 0o644), a("app/NEWS", []byte("1.2: faster start\n"), 0o644))))))
		}, detectors.Clean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := scan(t, tt.img(t))
			if v.Decision != tt.want {
				t.Errorf("decision = %s (score %v), want %s; findings %+v", v.Decision, v.Score, tt.want, v.Findings)
			}
		})
	}
}
