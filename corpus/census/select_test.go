package census

import (
	"reflect"
	"testing"
)

func TestAllocate(t *testing.T) {
	order := []string{Debian, Python, NPM, Ordinary}
	sizes := map[string]int{Debian: 1793, Python: 750, NPM: 780, Ordinary: 24}
	for _, tt := range []struct {
		name  string
		limit int
		want  map[string]int
	}{
		{"all", 0, sizes},
		{"over", 10000, sizes},
		{"300", 300, map[string]int{Debian: 161, Python: 67, NPM: 70, Ordinary: 2}},
		{"1", 1, map[string]int{Debian: 1, Python: 0, NPM: 0, Ordinary: 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Allocate(order, sizes, tt.limit)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Allocate(%d) = %v, want %v", tt.limit, got, tt.want)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"./usr/bin/x", "usr/bin/x", true},
		{"./", "", false},
		{"../../etc/passwd", "etc/passwd", true},
		{"/a/../../b", "b", true},
		{"usr//lib/", "usr/lib", true},
	} {
		got, ok := CleanPath(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CleanPath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDispositions(t *testing.T) {
	if _, err := Dispositions(); err != nil {
		t.Fatalf("committed dispositions.tsv: %v", err)
	}
	d := DispositionTable{
		{"hierarchical", "census/debian/x", "pool-url"}: "fixed in 0.5.0",
		{"hierarchical", "*", "miner-name"}:             "accepted: a game's item name",
	}
	for _, tt := range []struct{ image, rule, want string }{
		{"census/debian/x", "pool-url", "fixed in 0.5.0"},
		{"census/npm/y", "miner-name", "accepted: a game's item name"},
		{"census/npm/y", "pool-url", "open"},
	} {
		if got := d.Of("hierarchical", tt.image, tt.rule); got != tt.want {
			t.Errorf("Of(%s, %s) = %q, want %q", tt.image, tt.rule, got, tt.want)
		}
	}
}
