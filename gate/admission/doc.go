// Package admission is the deploy-time half of strata's registry gate: a
// Kubernetes validating admission webhook (AdmissionReview v1) that refuses
// Pods, and workloads with a pod template, whose images have a stored
// verdict of malicious or, by policy, incomplete, invalid or none yet (then
// it queues a scan). The handler is a plain http.Handler; Kubernetes wants
// it behind TLS, which SelfSignedTLS sets up for tests and quick starts.
package admission
