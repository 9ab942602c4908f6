package experiments

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-sec/strata/corpus/wild"
)

var wildRecords = filepath.Join("testdata", "wild", "records.jsonl")

// wildTestLookup stands in for corpus/wild, whose subject list the
// synthetic records do not follow.
func wildTestLookup(name string) (wild.Subject, bool) {
	adjacent := map[string]bool{"ben-node-1": true, "ben-ids-1": true}
	if !strings.HasPrefix(name, "ben-") && !strings.HasPrefix(name, "mal-") && !strings.HasPrefix(name, "grey-") {
		return wild.Subject{}, false
	}
	return wild.Subject{Name: name, Adjacent: adjacent[name]}, true
}

func wildTestReport(t *testing.T) *Report {
	t.Helper()
	rep, err := reportFile(wildRecords, func(recs []Record) (*Report, error) { return wildReport(recs, wildTestLookup) })
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestWildReportGolden renders testdata/wild (see testdata/README.md) and
// compares every file WriteDir writes and the terminal view: text byte for
// byte, PNGs pixel for pixel.
func TestWildReportGolden(t *testing.T) {
	rep := wildTestReport(t)
	dir := t.TempDir()
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, dir)
	for name, b := range files {
		golden := filepath.Join("testdata", "wild", "golden", name+".golden")
		if strings.HasSuffix(name, ".png") {
			checkGoldenPNG(t, golden, b)
			continue
		}
		checkGolden(t, golden, b)
	}
	want := []string{"cost_per_image.csv", "explain.csv", "families.csv", "fpr_by_family_dev.png", "fpr_by_family_dev.svg", "fpr_by_family_test.png",
		"fpr_by_family_test.svg", "report.md", "summary.csv", "tpr_by_family_dev.png", "tpr_by_family_dev.svg",
		"tpr_by_family_test.png", "tpr_by_family_test.svg"}
	if got := strings.Join(sortedKeys(files), " "); got != strings.Join(want, " ") {
		t.Errorf("WriteDir wrote %s, want %s", got, strings.Join(want, " "))
	}
	var term bytes.Buffer
	if err := rep.Print(&term); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "wild", "golden", "report.txt.golden"), term.Bytes())
}

// TestWildReportNumbers pins the numbers the golden files hold, so that an
// -update cannot bless a wrong count.
func TestWildReportNumbers(t *testing.T) {
	rep := wildTestReport(t)
	tests := []struct {
		name, table, want string
	}{
		// dev: mal-cfg-1 flagged, mal-fetch-1 incomplete (a miss); ben-node-1
		// (adjacent) a false alarm, ben-web-1 clean in its last record.
		{"dev summary", "summary", "dev,hierarchical,0.3,2,1,50.0% [1.3–98.7] (1/2),1,2,0.5000,0.0126,0.9874,2,1,50.0% [1.3–98.7] (1/2),1,2,0.5000,0.0126,0.9874," +
			"100.0% [2.5–100.0] (1/1),1,1,1.0000,0.0250,1.0000,0.0% [0.0–97.5] (0/1),0,1,0.0000,0.0000,0.9750,1/1,1,0\n"},
		// test: the false alarm is ordinary (ben-db-1); digest-image's scan
		// of ben-db-1 failed.
		{"test summary", "summary", "test,hierarchical,0.3,2,1,50.0% [1.3–98.7] (1/2),1,2,0.5000,0.0126,0.9874,2,1,50.0% [1.3–98.7] (1/2),1,2,0.5000,0.0126,0.9874," +
			"0.0% [0.0–97.5] (0/1),0,1,0.0000,0.0000,0.9750,100.0% [2.5–100.0] (1/1),1,1,1.0000,0.0250,1.0000,0/1,0,0\n"},
		{"test digest", "summary", "test,digest-image,1,2,1,50.0% [1.3–98.7] (1/2),1,2,0.5000,0.0126,0.9874,2,0,0.0% [0.0–84.2] (0/2),"},
		{"test digest errors", "summary", ",0/1,0,1\n"},
		{"family tpr", "families", "dev,malicious,fetch-exec,hierarchical,TPR,1,0,0.0% [0.0–97.5] (0/1),0,1,0.0000,0.0000,0.9750,1\n"},
		{"family fpr", "families", "test,benign,database,hierarchical,FPR,1,1,100.0% [2.5–100.0] (1/1),1,1,1.0000,0.0250,1.0000,0\n"},
		{"family grey", "families", "dev,grey,pool-server,hierarchical,flagged,1,1,"},
		{"incomplete miss", "explain", "miss,mal-fetch-1,dev,fetch-exec,malicious,hierarchical,incomplete,6/10,6,10,"},
		{"clean miss", "explain", "miss,mal-fetch-2,test,fetch-exec,malicious,hierarchical,clean,7/10,7,10,runtime-fetch-exec (4) L-1 config:Healthcheck: wget -q"},
		{"false alarm adjacent", "explain", "false alarm,ben-node-1,dev,blockchain-node,benign (mining-adjacent),hierarchical,flagged,12/10,12,10,\"" +
			"elf-mining-algorithms (6) L1 usr/bin/monerod: randomx, cryptonight, rx/0; stratum-string (4) L1 usr/share/doc/monero/README: " +
			"stratum+tcp is not supported by this node; see the pool doc…; start-graph-exec (2) L-1 config:Entrypoint: monerod --non-interactive; +1 more\"\n"},
		{"shortened path", "explain", "msr-write (5) L1 …ong/path/that/goes/on/and/on/to/the/tune-msr.sh: wrmsr"},
		{"grey flagged", "explain", "grey flagged,grey-pool-1,dev,pool-server,grey,hierarchical,flagged,10/10"},
	}
	for _, tc := range tests {
		if csv := csvOf(t, rep, tc.table); !strings.Contains(csv, tc.want) {
			t.Errorf("%s: table %s lacks %q:\n%s", tc.name, tc.table, tc.want, csv)
		}
	}
	explain := csvOf(t, rep, "explain")
	for _, absent := range []string{"mal-cfg-1", "ben-web-1", "digest-image", "grey-pool-2"} {
		if strings.Contains(explain, absent) {
			t.Errorf("explain lists %s, which needs no explaining (or is not a scoring detector):\n%s", absent, explain)
		}
	}
	warns := strings.Join(rep.Warnings, "\n")
	for _, want := range []string{"skipped 1 record(s) with experiment \"exp1\"", "recorded more than once"} {
		if !strings.Contains(warns, want) {
			t.Errorf("warnings lack %q:\n%s", want, warns)
		}
	}
}

func TestWildReportNoRecords(t *testing.T) {
	_, err := wildReport([]Record{{Schema: RecordSchema, Experiment: Exp1, Image: "exp1/case-111", Detector: "d"}}, wildTestLookup)
	if err == nil || !strings.Contains(err.Error(), "strata experiment wild") {
		t.Errorf("err = %v, want one that says to run the wild experiment", err)
	}
}
