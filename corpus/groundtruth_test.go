package corpus

import (
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func cfg(baseEntries int, empties ...bool) *v1.ConfigFile {
	cf := &v1.ConfigFile{}
	for i := 0; i < baseEntries; i++ {
		cf.History = append(cf.History, v1.History{CreatedBy: "base"})
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)})
	}
	for i, e := range empties {
		cf.History = append(cf.History, v1.History{CreatedBy: "step " + string(rune('a'+i)), EmptyLayer: e})
		if !e {
			cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("1", 64)})
		}
	}
	return cf
}

func TestGroundTruth(t *testing.T) {
	const df = `FROM debian:bookworm
RUN echo benign
ENV A=b
# strata:malicious=L8
RUN echo bad
# unrelated comment
# strata:malicious=L9
ENTRYPOINT ["/bin/x"]
`
	tests := []struct {
		name       string
		dockerfile string
		cf         *v1.ConfigFile
		base       int
		wantLayers []int
		wantConfig []string
		wantErr    string
	}{
		{"layer and config", df, cfg(1, false, true, false, true), 1, []int{2}, []string{"step d"}, ""},
		{"two base entries", df, cfg(2, false, true, false, true), 2, []int{3}, []string{"step d"}, ""},
		{"history count mismatch", df, cfg(1, false, true, false), 1, nil, nil, "cannot align"},
		{"multi-stage uses final stage", "FROM a AS b\n# strata:malicious=L1\nRUN x\nFROM debian\nRUN y\n", cfg(1, false), 1, nil, nil, ""},
		{"no marker", "FROM a\nRUN x\n", cfg(1, false), 1, nil, nil, ""},
		{"final stage built FROM an earlier stage", "FROM debian AS app\nRUN a\nENV X=1\nFROM app\n# strata:malicious=L8\nRUN b\n", cfg(1, false, true, false), 1, []int{2}, nil, ""},
		{"ONBUILD has no history entry", "FROM debian\nRUN a\n# strata:malicious=onbuild\nONBUILD RUN curl x | sh\nCMD [\"sh\"]\n", cfg(1, false, true), 1, nil, []string{"ONBUILD RUN curl x | sh"}, ""},
		{"unmarked ONBUILD", "FROM debian\nONBUILD COPY . /src\n# strata:malicious=L2\nRUN a\n", cfg(1, false), 1, []int{1}, nil, ""},
		{"no FROM", "RUN x\n", cfg(1, false), 1, nil, nil, "no FROM"},
		{"chain of stages", "FROM debian AS s1\n# strata:malicious=L1\nRUN a\nFROM s1 AS s2\nRUN b\nFROM busybox AS other\nRUN z\nFROM s2\nRUN c\n", cfg(1, false, false, false), 1, []int{1}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GroundTruth([]byte(tt.dockerfile), tt.cf, tt.base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.MaliciousLayers, tt.wantLayers) || !reflect.DeepEqual(got.MaliciousConfig, tt.wantConfig) {
				t.Errorf("got layers %v config %v, want %v %v", got.MaliciousLayers, got.MaliciousConfig, tt.wantLayers, tt.wantConfig)
			}
		})
	}
}
