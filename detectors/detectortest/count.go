package detectortest

import (
	"io"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Reads counts how often layer content was opened. DiffID calls are counted
// apart: for OCI-layout and registry layers, v1.Layer.DiffID decompresses and
// hashes the whole blob (the blob does not know its diffID; the config does).
type Reads struct {
	Uncompressed atomic.Int64
	Compressed   atomic.Int64
	DiffID       atomic.Int64
}

// Total is the number of content opens of either kind.
func (r *Reads) Total() int64 { return r.Uncompressed.Load() + r.Compressed.Load() }

// CountReads wraps img so that every Uncompressed(), Compressed() and
// DiffID() call on its layers is counted: a test can assert that a scan did not read layer
// content. Digest, DiffID and the rest pass through unchanged.
func CountReads(img v1.Image) (v1.Image, *Reads) {
	r := &Reads{}
	return countingImage{Image: img, r: r}, r
}

type countingImage struct {
	v1.Image
	r *Reads
}

func (c countingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = countingLayer{Layer: l, r: c.r}
	}
	return out, nil
}

func (c countingImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := c.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return countingLayer{Layer: l, r: c.r}, nil
}

func (c countingImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	l, err := c.Image.LayerByDiffID(h)
	if err != nil {
		return nil, err
	}
	return countingLayer{Layer: l, r: c.r}, nil
}

type countingLayer struct {
	v1.Layer
	r *Reads
}

func (c countingLayer) Uncompressed() (io.ReadCloser, error) {
	c.r.Uncompressed.Add(1)
	return c.Layer.Uncompressed()
}

func (c countingLayer) Compressed() (io.ReadCloser, error) {
	c.r.Compressed.Add(1)
	return c.Layer.Compressed()
}

func (c countingLayer) DiffID() (v1.Hash, error) {
	c.r.DiffID.Add(1)
	return c.Layer.DiffID()
}
