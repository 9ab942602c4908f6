// Package buildkit drives BuildKit for strata: it starts and stops a private
// buildkitd (own state directory, socket and log) or connects to an existing
// daemon, and builds Dockerfiles through the Go client (frontend
// dockerfile.v0) with base images resolved from the local OCI store as named
// contexts, reproducible timestamps, and export straight into that store.
package buildkit
