package hierarchical_test

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	dt "github.com/strata-sec/strata/detectors/detectortest"
	"github.com/strata-sec/strata/detectors/hierarchical"
)

// TestLiteralsInOtherBinaries: binary files that are neither ELF nor
// archives (a .pyc, a data blob) go through the literal matchers over every
// byte, also past a long zero run.
func TestLiteralsInOtherBinaries(t *testing.T) {
	url := "stratum+tcp://pool.example.com:3333"
	tests := []struct {
		name string
		body string
		want string // rule, "" = none
	}{
		{name: "pyc with a pool URL", body: "\x55\x0d\x0d\x0a\x00\x00\x00\x00" + url + "\x00", want: hierarchical.RuleStratumURL},
		{name: "pool URL after 3 MiB of zeros", body: "\x00\x01" + strings.Repeat("\x00", 3<<20) + url, want: hierarchical.RuleStratumURL},
		{name: "benign blob", body: "\x00\x01\x02 stratum layer of the data format\x00", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := dt.Image(t, v1.Config{}, dt.Run("COPY app /opt/app", dt.Text("opt/app/cache.bin", tt.body)))
			v := scan(t, img)
			got := findings(v, hierarchical.RuleStratumURL)
			if tt.want == "" && len(got) > 0 || tt.want != "" && len(got) == 0 {
				t.Errorf("%s findings %+v, want rule %q", hierarchical.RuleStratumURL, got, tt.want)
			}
		})
	}
}
