// Package progress shows how far long work (builds, scans) has come and
// when it will end: a bar with ETA on a terminal, one line per step with
// ETA in logs (CI), so neither a person nor a log reader waits blind.
package progress
