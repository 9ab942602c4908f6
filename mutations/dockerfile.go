package mutations

// The Dockerfile kind: types that splice instructions into the Dockerfile
// text (experiment 2), one file each; the shared parts are here and in
// source.go.

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Env is what a Dockerfile or payload mutation may need from the harness.
type Env struct {
	// ServerURL is the harness's loopback HTTP server (no trailing slash
	// needed), which serves DummyNetworkFiles. Only dummy-network uses it.
	ServerURL string
	// BaseWorkdir is the working directory the final stage inherits from
	// its external base image (image config WorkingDir; "" means "/"). The
	// Dockerfile text cannot tell it, so the harness reads it from the
	// stored base image. Only variable-workdir uses it.
	BaseWorkdir string
	// NoWget says the image has no wget (a Debian minbase image without the
	// package): dummy-network then downloads with bash's /dev/tcp, which
	// every Debian image has, instead of the paper's wget. The corpus
	// sample has wget; experiment 3's benign controls may not.
	NoWget bool
}

// DockerfileMutation edits Dockerfile text. It returns a new slice and never
// modifies src.
type DockerfileMutation interface {
	Mutation
	MutateDockerfile(src []byte, rng *rand.Rand, env Env) ([]byte, error)
}

// ApplyDockerfile applies m to src with the stream NewRand(seed, m.Name()).
func ApplyDockerfile(m DockerfileMutation, src []byte, seed int64, env Env) ([]byte, error) {
	out, err := m.MutateDockerfile(src, NewRand(seed, m.Name()), env)
	if err != nil {
		return nil, fmt.Errorf("mutation %s (seed %d): %w", m.Name(), seed, err)
	}
	return out, nil
}

// ErrNoFinalStage is returned for a Dockerfile without a FROM instruction.
var ErrNoFinalStage = errors.New("dockerfile has no FROM: no final stage to mutate")

// insertAtRandomPoint is the shape of most Dockerfile mutations: parse,
// draw a point, splice lines there. The point is drawn before build is
// called, so build sees it (variable-workdir needs it).
func insertAtRandomPoint(src []byte, rng *rand.Rand, build func(d *dockerfile, p point) ([]string, error)) ([]byte, error) {
	d, err := parseDockerfile(src)
	if err != nil {
		return nil, err
	}
	p := d.randomPoint(rng)
	lines, err := build(d, p)
	if err != nil {
		return nil, err
	}
	return d.Splice(insertAt(p, lines...)), nil
}
