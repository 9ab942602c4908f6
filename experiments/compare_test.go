package experiments

import (
	"slices"
	"testing"

	"github.com/strata-sec/strata/detectors"
)

func TestCompareRecords(t *testing.T) {
	rec := func(image, det string, d detectors.Decision, blamed ...int) Record {
		return Record{Image: image, Detector: det, Decision: d, BlamedLayers: blamed, Layers: []string{"a", "b", "c"}}
	}
	ref := map[string][]Record{RecordsFile: {
		rec("x", "h", detectors.Malicious, 2), rec("y", "h", detectors.Clean), rec("z", "h", detectors.Clean),
	}}
	tests := []struct {
		name           string
		run            []Record
		slice          Slice
		wantAgree      int
		wantCompared   int
		wantMissing    int
		wantNew        int
		wantReproduced bool
	}{
		{name: "identical", run: ref[RecordsFile], wantAgree: 3, wantCompared: 3, wantReproduced: true},
		{name: "whole run missing a record", run: ref[RecordsFile][:2], wantAgree: 2, wantCompared: 2, wantMissing: 1},
		{name: "slice compared on what it ran", run: ref[RecordsFile][:1], slice: Slice{Cases: []string{"111"}}, wantAgree: 1, wantCompared: 1, wantReproduced: true},
		{name: "new type is not compared", run: append(slices.Clone(ref[RecordsFile]), rec("new", "h", detectors.Clean)), wantAgree: 3, wantCompared: 3, wantNew: 1, wantReproduced: true},
		{name: "changed decision", run: []Record{rec("x", "h", detectors.Clean), ref[RecordsFile][1], ref[RecordsFile][2]}, wantAgree: 2, wantCompared: 3},
		{name: "last repeated record counts", run: append(slices.Clone(ref[RecordsFile]), rec("x", "h", detectors.Malicious, 1)), wantAgree: 2, wantCompared: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(map[string][]Record{RecordsFile: tt.run}, ref, tt.slice)
			if c.Agree != tt.wantAgree || c.Compared != tt.wantCompared || len(c.Missing) != tt.wantMissing || len(c.New) != tt.wantNew || c.Reproduced() != tt.wantReproduced {
				t.Errorf("agree %d/%d, missing %d, new %d, reproduced %v; want %d/%d, %d, %d, %v (disagreements %v)",
					c.Agree, c.Compared, len(c.Missing), len(c.New), c.Reproduced(),
					tt.wantAgree, tt.wantCompared, tt.wantMissing, tt.wantNew, tt.wantReproduced, c.Disagreements)
			}
		})
	}
}

func TestIntRangesAndThousands(t *testing.T) {
	if got := intRanges([]int{0, 1, 2, 5, 8, 9}); got != "0-2, 5, 8-9" {
		t.Errorf("intRanges = %q", got)
	}
	for n, want := range map[int]string{7: "7", 1600: "1,600", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPackages(t *testing.T) {
	status := "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
		"Package: apt\nStatus: install ok installed\nVersion: 2.6.1\n"
	got := dpkgPackages([]byte(status))
	if want := []string{"apt=2.6.1", "bash=5.2.15-2+b7"}; !slices.Equal(got, want) {
		t.Fatalf("dpkgPackages = %v, want %v", got, want)
	}
	diff := packageDiff(got, []string{"apt=2.6.2", "bash=5.2.15-2+b7", "zlib1g=1.2"})
	if want := []string{"apt 2.6.1 -> 2.6.2", "zlib1g (new) 1.2"}; !slices.Equal(diff, want) {
		t.Errorf("packageDiff = %v, want %v", diff, want)
	}
}
