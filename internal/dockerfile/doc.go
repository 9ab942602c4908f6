// Package dockerfile is the one Dockerfile model of strata: it parses with
// BuildKit's parser, groups instructions into stages, follows the final
// stage's FROM chain, reads ground-truth markers and USER values, and edits
// Dockerfiles by splicing the original text (BuildKit's parser gives line
// positions but cannot print an AST back). The corpus labels images with it
// and the mutations rewrite Dockerfiles with it.
package dockerfile
