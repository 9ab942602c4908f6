package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-sec/strata/mutations"
)

// TestMutationsWidth: the list fits the width asked for, and every type is
// in it with its description.
func TestMutationsWidth(t *testing.T) {
	for _, width := range []int{60, 80, 120} {
		t.Run(strconv.Itoa(width), func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := run(context.Background(), []string{"mutations", "--width", strconv.Itoa(width)}, &out, &errb); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				if n := len([]rune(line)); n > width {
					t.Errorf("line of %d runes wider than %d: %q", n, width, line)
				}
			}
			for _, m := range mutations.All() {
				if !strings.Contains(out.String(), m.Name()+" ") {
					t.Errorf("type %s not listed", m.Name())
				}
			}
		})
	}
}
