// Package store is strata's content-addressed image store: one OCI image
// layout on disk in which every built, imported or mutated image lives once,
// with blobs shared between images, and one annotated index entry per image.
//
// BuildKit writes into it through a containerd content store over the same
// directory (ContentStore); go-containerregistry reads it as v1.Image.
package store
