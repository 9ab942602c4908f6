package wild

import (
	"os"
	"testing"
)

// TestREADME checks that README.md's subject table is the one Subjects()
// and split.json give; -update rewrites it.
func TestREADME(t *testing.T) {
	old, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := withSubjectTable(string(old), Subjects())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(old) != want {
		t.Error("README.md's subject table is stale: go test ./corpus/wild -run TestREADME -update")
	}
}
