// Package gate puts strata in front of a container registry: the registry's
// push notifications become scan jobs on a NATS JetStream work queue,
// workers scan each pushed manifest with the hierarchical detector and store
// the verdict in a JetStream key-value bucket, and a small HTTP API serves
// verdicts, Prometheus metrics and a per-repository quarantine policy.
// `strata serve` and `strata worker` are thin wrappers around it.
package gate
