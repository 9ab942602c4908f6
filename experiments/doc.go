// Package experiments holds the registry of named experiments (exp1: the
// paper's 8 layer-presence cases; exp2: its layer reshaping; exp3: payload
// mutations, benign controls, ablation; benign: the benign corpus) and the
// one lifecycle every experiment goes through (Run): prepare the
// environment (store, buildkitd, base image, offline packages, loopback
// server) -> build the images with BuildKit -> scan each with every
// detector -> append one JSON record per (image, detector) to a run
// directory of its own -> derive the report. record.go owns the record
// format; Compare tells whether a run reproduced a reference.
package experiments
