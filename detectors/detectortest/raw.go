package detectortest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Blob is a crafted layer for RawImage: the bytes stored, and what the
// manifest and config claim about them. Zero fields are filled honestly.
type Blob struct {
	// Data is the blob as stored (gzip, zstd, plain tar or anything else).
	Data []byte
	// MediaType defaults to types.OCILayer.
	MediaType types.MediaType
	// Digest and Size are the manifest's claims; zero: sha256 and length of
	// Data.
	Digest v1.Hash
	Size   int64
	// DiffID is the config's claim; zero: sha256 of Data decompressed (or of
	// Data when it does not decompress). Set it for bombs, so building the
	// image does not decompress them.
	DiffID v1.Hash
	// Missing: the manifest names the blob but it is not stored.
	Missing bool
}

// Hash returns the sha256 v1.Hash of b.
func Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// Gzip compresses b at level, failing t on error.
func Gzip(t testing.TB, b []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err == nil {
		_, err = zw.Write(b)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return buf.Bytes()
}

// StoredGzip is a gzip stream of the tar of files without compression: a
// file's bytes appear as they are, so two tars of the same shape whose
// files differ only in content give blobs of the same length (a tampered
// blob a registry could serve under the real one's Content-Length).
func StoredGzip(t testing.TB, files ...File) []byte {
	t.Helper()
	b, err := Tar(files...)
	if err != nil {
		t.Fatal(err)
	}
	return Gzip(t, b, gzip.NoCompression)
}

// Zstd compresses b, failing t on error.
func Zstd(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatalf("zstd: %v", err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

// uncompressedHash is the diffID an honest config would claim for data.
func uncompressedHash(data []byte) v1.Hash {
	h := sha256.New()
	var r io.Reader = bytes.NewReader(data)
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		if zr, err := gzip.NewReader(r); err == nil {
			if _, err := io.Copy(h, zr); err == nil {
				return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
			}
		}
		return Hash(data)
	case bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		if zr, err := zstd.NewReader(r); err == nil {
			defer zr.Close()
			if _, err := io.Copy(h, zr); err == nil {
				return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
			}
		}
		return Hash(data)
	}
	return Hash(data)
}

// RawImage builds an image from a config and crafted blobs, served like an
// OCI layout serves them: layers are blobs the walker decompresses itself,
// digests and sizes come from the manifest, diffIDs from the config. cfg's
// RootFS is overwritten with the blobs' diffIDs; cfg may carry any history.
// Nothing is verified, so the image can lie in every way Blob allows.
func RawImage(t testing.TB, cfg v1.ConfigFile, blobs ...Blob) v1.Image {
	t.Helper()
	return rawImageOf(t, cfg, true, blobs)
}

// RawImageWithoutDiffIDs is RawImage with a config whose rootfs.diff_ids
// is empty: nothing names the layers' uncompressed content.
func RawImageWithoutDiffIDs(t testing.TB, cfg v1.ConfigFile, blobs ...Blob) v1.Image {
	t.Helper()
	return rawImageOf(t, cfg, false, blobs)
}

func rawImageOf(t testing.TB, cfg v1.ConfigFile, diffIDs bool, blobs []Blob) v1.Image {
	t.Helper()
	cfg.RootFS = v1.RootFS{Type: "layers"}
	m := &v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	ri := &rawImage{blobs: map[v1.Hash][]byte{}}
	for _, b := range blobs {
		d := v1.Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size}
		if d.MediaType == "" {
			d.MediaType = types.OCILayer
		}
		if d.Digest == (v1.Hash{}) {
			d.Digest = Hash(b.Data)
		}
		if d.Size == 0 {
			d.Size = int64(len(b.Data))
		}
		diffID := b.DiffID
		if diffID == (v1.Hash{}) && diffIDs {
			diffID = uncompressedHash(b.Data)
		}
		if !b.Missing {
			ri.blobs[d.Digest] = b.Data
		}
		m.Layers = append(m.Layers, d)
		if diffIDs {
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return RawImageConfig(t, raw, m, ri.blobs)
}

// RawImageConfig is RawImage with the raw config bytes and manifest given
// (the config descriptor is filled in from raw).
func RawImageConfig(t testing.TB, rawConfig []byte, m *v1.Manifest, blobs map[v1.Hash][]byte) v1.Image {
	t.Helper()
	m.Config = v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: Hash(rawConfig), Size: int64(len(rawConfig))}
	rawManifest, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	img, err := partial.CompressedToImage(&rawImage{config: rawConfig, manifest: rawManifest, m: m, blobs: blobs})
	if err != nil {
		t.Fatalf("image: %v", err)
	}
	return img
}

type rawImage struct {
	config, manifest []byte
	m                *v1.Manifest
	blobs            map[v1.Hash][]byte
}

func (r *rawImage) RawConfigFile() ([]byte, error)      { return r.config, nil }
func (r *rawImage) RawManifest() ([]byte, error)        { return r.manifest, nil }
func (r *rawImage) MediaType() (types.MediaType, error) { return r.m.MediaType, nil }

func (r *rawImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, d := range r.m.Layers {
		if d.Digest == h {
			return &rawBlob{img: r, desc: d}, nil
		}
	}
	return nil, fmt.Errorf("no layer %s in manifest", h)
}

type rawBlob struct {
	img  *rawImage
	desc v1.Descriptor
}

func (b *rawBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *rawBlob) Size() (int64, error)                { return b.desc.Size, nil }
func (b *rawBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }

func (b *rawBlob) Compressed() (io.ReadCloser, error) {
	data, ok := b.img.blobs[b.desc.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: not found", b.desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}
