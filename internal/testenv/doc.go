// Package testenv gives integration tests the real things they need — a
// buildkitd, a store with base images — started once per test binary and
// torn down by TestMain. Under -short the tests that need them are skipped
// with a message that says why; CI never passes -short.
package testenv
