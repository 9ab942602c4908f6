package census

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestNPMListIsTheRanking fails when npm.tsv stops being the top NPMTop of
// the ranking in ranking order: pinned + skipped must be exactly ranks
// 1..NPMTop, each once.
func TestNPMListIsTheRanking(t *testing.T) {
	npm, err := List(NPM)
	if err != nil {
		t.Fatal(err)
	}
	ranks := map[int]string{}
	last := 0
	for _, e := range npm {
		if e.Rank <= last {
			t.Errorf("npm list not in ranking order at %d %s", e.Rank, e.Name)
		}
		last = e.Rank
		ranks[e.Rank] = e.Name
		if !strings.HasPrefix(e.Integrity, "sha512-") {
			t.Errorf("npm %s: integrity %q", e.Name, e.Integrity)
		}
	}
	b, err := os.ReadFile(NPMSkippedFile)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		f := strings.SplitN(sc.Text(), "\t", 3)
		r, err := strconv.Atoi(f[0])
		if err != nil || len(f) != 3 {
			t.Fatalf("%s: bad line %q", NPMSkippedFile, sc.Text())
		}
		if n, dup := ranks[r]; dup {
			t.Errorf("rank %d is pinned (%s) and skipped (%s)", r, n, f[1])
		}
		ranks[r] = f[1]
	}
	for r := 1; r <= NPMTop; r++ {
		if _, ok := ranks[r]; !ok {
			t.Errorf("rank %d of the ranking is neither pinned nor skipped", r)
		}
	}
	if len(ranks) != NPMTop || len(npm) < 750 {
		t.Errorf("%d ranks, %d pinned: want the top %d and at least 750", len(ranks), len(npm), NPMTop)
	}
}
