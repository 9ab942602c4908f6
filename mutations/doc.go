// Package mutations holds the polymorphic mutation types of the paper's
// experiment 2 (Table 4) and every later type, one file each, in one
// registry. A Dockerfile mutation splices new instructions into the original
// Dockerfile text of a sample; an image mutation rewrites a built image in
// go-containerregistry's mutate style; a payload mutation (experiment 3)
// rewrites the Dockerfile, a private copy of the build context and the
// build's SOURCE_DATE_EPOCH. All random choices come from a
// stream derived from (seed, mutation name), so a seed reproduces an image.
package mutations
