// Package testenv gives integration tests the real things they need — a
// buildkitd (started once per test binary and torn down by TestMain) and a
// Debian docker-registry on loopback (one per test, stopped by its
// cleanup). Under -short the tests that need them are skipped
// with a message that says why; CI never passes -short.
package testenv
