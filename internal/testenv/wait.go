package testenv

import (
	"testing"
	"time"
)

// WaitFor polls f every 50 ms until it returns true, and fails the test
// with "waited d for what" when d passes first.
func WaitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
