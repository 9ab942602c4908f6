// Package experiments holds the named experiments (exp1: the paper's 8
// layer-presence cases; later ones add mutations) and the runner that turns
// each into records: prepare the environment (store, buildkitd, base image,
// offline packages, loopback server) -> build the images with BuildKit ->
// scan each with every detector -> append one JSON record per (image,
// detector) to results/<exp>/records.jsonl. Tables and figures are derived
// from the records afterwards (report*.go), never during a run.
package experiments
